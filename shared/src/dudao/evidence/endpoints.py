"""HTTP for evidence files: upload (multipart) and download, within the caller's jurisdiction."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from urllib.parse import quote
from uuid import UUID

from fastapi import UploadFile
from fastapi.responses import FileResponse

from dudao.errors import PayloadTooLarge, problems
from dudao.evidence import service
from dudao.evidence.models import EvidenceFile
from dudao.evidence.schemas import EvidenceRead
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import Rt
from dudao.http.routing import transactional_router
from dudao.runtime import Runtime
from dudao.storage import FileTooLarge, LocalDiskStorage

router = transactional_router(tags=["evidence"])


def storage(rt: Runtime) -> LocalDiskStorage:
    """Each service's files apart, under its schema's name."""
    return LocalDiskStorage(rt.settings.evidence_root / rt.spec.schema)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(256 * 1024):
        yield chunk


def _attachment(filename: str) -> str:
    """Saved, never shown inline, under its name twice: RFC 6266's ``filename*`` in UTF-8, and a plain
    ASCII ``filename`` for clients that do not read it (``监测报告.pdf`` → ``evidence.pdf``)."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem, dot, suffix = re.sub(r"[^A-Za-z0-9._ ()-]+", "_", plain).rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    if not re.search(r"[A-Za-z0-9]", stem):
        stem = "evidence"
    fallback = f"{stem}.{suffix}" if suffix else stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post(
    "/v1/evidence",
    status_code=201,
    response_model=EvidenceRead,
    responses=problems(service.EvidenceRefused, service.EvidenceContentMismatch, PayloadTooLarge),
)
async def upload_evidence(file: UploadFile, uow: UoW, who: CurrentPrincipal, rt: Rt) -> EvidenceFile:
    """Upload an evidence file (multipart field ``file``) of an accepted type, which its content must be;
    name its id in a visit, a finding or a report."""
    declared = (file.content_type or "").split(";")[0].strip().lower()
    service.check_type(declared, rt.settings.evidence_content_types)
    files = storage(rt)
    key = service.new_key()
    try:
        stored = await files.save(key, _chunks(file), max_bytes=rt.settings.evidence_max_bytes)
    except FileTooLarge as exc:
        raise PayloadTooLarge(f"The file is larger than {exc.limit} bytes") from None
    try:
        detected = await files.content_type(key)
        return await service.record(uow, who, stored, file.filename or "evidence", declared, detected)
    except BaseException:  # no row, no file
        await files.delete(key)
        raise


@router.get(
    "/v1/evidence/{evidence_id}", response_class=FileResponse, responses=problems(service.EvidenceNotFound)
)
async def download_evidence(evidence_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt) -> FileResponse:
    """Download an evidence file within your jurisdiction (an agency: one it uploaded), as the type its
    content was found to be."""
    evidence = await service.get(uow, who, evidence_id)
    return FileResponse(
        storage(rt).path(evidence.storage_key),
        media_type=evidence.content_type,
        headers={"Content-Disposition": _attachment(evidence.filename)},
    )
