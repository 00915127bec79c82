"""Evidence files are checked by their content: the declared type must be what the bytes are, a file is
stored and served as the type found, always as an attachment, never sniffed; an agency reads its own."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import Workbook

from dudao.config import Settings
from dudao.evidence import content
from tests.conftest import TokenFactory, bearer

COUNTY = "450102"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
QUICKTIME = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00\x00\x00\x08wide"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(["学校", "在校生"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# A DOCX whose first entries say nothing (docProps first): told by the directory, not the first header.
DOCX = _zip("docProps/app.xml", "[Content_Types].xml", "_rels/.rels", "word/document.xml")


@pytest.fixture
def uploader(token: TokenFactory) -> dict[str, str]:
    return bearer(token("inspector", division=COUNTY))


async def _upload(
    client: httpx.AsyncClient, who: dict[str, str], name: str, data: bytes, declared: str
) -> httpx.Response:
    return await client.post("/v1/evidence", headers=who, files={"file": (name, data, declared)})


def _stored_files(settings: Settings) -> set[Path]:
    root = settings.evidence_root / "inspection"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("督导报告.pdf", PDF, "application/pdf"),
        ("校门.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01photo", "image/jpeg"),
        ("操场.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        ("食堂.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00", "image/webp"),
        ("课堂.mp4", MP4, "video/mp4"),
        ("整改方案.docx", DOCX, DOCX_TYPE),
        ("统计表.xlsx", _xlsx(), XLSX_TYPE),
    ],
)
async def test_each_accepted_type_is_stored_and_served_as_its_content(
    inspection: httpx.AsyncClient, uploader: dict[str, str], name: str, data: bytes, declared: str
) -> None:
    upload = await _upload(inspection, uploader, name, data, declared)
    assert upload.status_code == 201, upload.text
    assert (upload.json()["content_type"], upload.json()["filename"]) == (declared, name)
    download = await inspection.get(f"/v1/evidence/{upload.json()['id']}", headers=uploader)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == declared
    assert download.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("data", "declared", "detected"),
    [
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64),
            "application/pdf",
            "application/x-msdownload",
        ),
        (b"#!/bin/sh\nrm -rf /\n", "application/pdf", None),
        (PDF, "image/png", "application/pdf"),
        (DOCX, XLSX_TYPE, DOCX_TYPE),
        (_xlsx(), DOCX_TYPE, XLSX_TYPE),
        (_zip("payload.exe"), DOCX_TYPE, "application/zip"),
        (
            _zip("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),
            DOCX_TYPE,
            "application/zip",
        ),
        (b"PK\x03\x04" + bytes(40), DOCX_TYPE, None),  # a local header without an archive behind it
        (QUICKTIME, "video/mp4", "video/quicktime"),
    ],
)
async def test_content_that_is_not_its_declared_type_is_refused_and_leaves_no_file(
    inspection: httpx.AsyncClient,
    uploader: dict[str, str],
    settings: Settings,
    data: bytes,
    declared: str,
    detected: str | None,
) -> None:
    before = _stored_files(settings)
    refused = await _upload(inspection, uploader, "证明.pdf", data, declared)
    assert refused.status_code == 415, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "urn:dudao:problem:evidence-content-mismatch"
    assert (body["declared"], body["detected"]) == (declared, detected)
    assert f"sent as {declared}" in body["detail"]
    assert _stored_files(settings) == before


async def test_a_download_is_an_attachment_with_a_plain_ascii_fallback_name(
    inspection: httpx.AsyncClient, uploader: dict[str, str]
) -> None:
    chinese = await _upload(inspection, uploader, "监测报告.pdf", PDF, "application/pdf")
    disposition = (await inspection.get(f"/v1/evidence/{chinese.json()['id']}", headers=uploader)).headers[
        "content-disposition"
    ]
    assert disposition == f"attachment; filename=\"evidence.pdf\"; filename*=UTF-8''{quote('监测报告.pdf')}"

    # A path and a right-to-left override (which shows "报告‮fdp.exe" as "报告exe.pdf") are dropped; a name
    # that does not end as its content does gets the content's extension; the fallback has no ";".
    tricky = await _upload(
        inspection, uploader, "../../tmp/Report;2026 报告\u202efdp.exe", PDF, "application/pdf"
    )
    assert tricky.status_code == 201, tricky.text
    assert tricky.json()["filename"] == "Report;2026 报告fdp.exe.pdf"
    download = await inspection.get(f"/v1/evidence/{tricky.json()['id']}", headers=uploader)
    fallback = download.headers["content-disposition"].split(";")[1].strip()
    assert fallback == 'filename="Report_2026 fdp.exe.pdf"'
    assert download.headers["content-type"] == "application/pdf"


async def test_a_file_over_the_evidence_limit_and_a_body_over_the_request_limit_share_one_413(
    inspection: httpx.AsyncClient, uploader: dict[str, str], settings: Settings
) -> None:
    file_over = await _upload(
        inspection, uploader, "big.pdf", PDF + bytes(settings.evidence_max_bytes), "application/pdf"
    )
    body_over = await inspection.post(
        "/v1/schools", headers=uploader, content=b"{" + b" " * settings.max_body_bytes + b"}"
    )
    assert (file_over.status_code, body_over.status_code) == (413, 413)
    assert {file_over.json()["type"], body_over.json()["type"]} == {"urn:dudao:problem:payload-too-large"}


def test_a_truncated_or_odd_iso_media_file_is_not_taken_for_mp4(tmp_path: Path) -> None:
    cases = {
        "short": b"\x00\x00\x00\x18ftypmp42",  # the box claims more than the file has
        "heif": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "m4a": b"\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A ",
    }
    found: dict[str, Any] = {}
    for label, data in cases.items():
        (tmp_path / label).write_bytes(data)
        found[label] = content.detect(tmp_path / label)
    assert found["short"] is None
    assert found["heif"] == "image/heic"
    assert found["m4a"] != "video/mp4"


async def test_an_agency_key_reads_the_evidence_it_uploaded_and_no_other_of_its_county(
    inspection: httpx.AsyncClient,
    governance: httpx.AsyncClient,
    token: TokenFactory,
    uploader: dict[str, str],
) -> None:
    admin = bearer(token("platform_admin", division="450000"))
    issued = await governance.post(
        "/v1/api-keys",
        headers=admin,
        json={
            "name": "质量监测报送",
            "org": "广西教育评估院",
            "roles": ["agency"],
            "division_code": COUNTY,
            "scope_services": ["school-inspection"],
            "scope_operations": ["read", "write"],
        },
    )
    assert issued.status_code == 201, issued.text
    agency = {"X-API-Key": issued.json()["key"]}
    own = await _upload(inspection, agency, "监测报告.pdf", PDF, "application/pdf")
    assert own.status_code == 201, own.text
    neighbours = await _upload(inspection, uploader, "督导记录.pdf", PDF, "application/pdf")

    assert (await inspection.get(f"/v1/evidence/{own.json()['id']}", headers=agency)).status_code == 200
    other = await inspection.get(f"/v1/evidence/{neighbours.json()['id']}", headers=agency)
    assert other.status_code == 404
    assert other.json()["type"] == "urn:dudao:problem:evidence-not-found"
    office = bearer(token("supervision_office", division=COUNTY))
    assert (await inspection.get(f"/v1/evidence/{own.json()['id']}", headers=office)).status_code == 200

    rotated = await governance.post(f"/v1/api-keys/{issued.json()['id']}/rotate", headers=admin)
    assert rotated.status_code == 201, rotated.text
    successor = {"X-API-Key": rotated.json()["key"]}
    assert (await inspection.get(f"/v1/evidence/{own.json()['id']}", headers=successor)).status_code == 200
    assert (
        await inspection.get(f"/v1/evidence/{neighbours.json()['id']}", headers=successor)
    ).status_code == 404
