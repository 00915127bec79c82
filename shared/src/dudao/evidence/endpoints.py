"""HTTP for evidence files: upload (multipart) and download, within the caller's jurisdiction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import UploadFile
from fastapi.responses import FileResponse

from dudao.errors import problems
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


@router.post(
    "/v1/evidence",
    status_code=201,
    response_model=EvidenceRead,
    responses=problems(service.EvidenceRefused, service.EvidenceTooLarge),
)
async def upload_evidence(file: UploadFile, uow: UoW, who: CurrentPrincipal, rt: Rt) -> EvidenceFile:
    """Upload an evidence file (multipart field ``file``); name its id in a visit, a finding or a report."""
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    service.check_type(content_type, rt.settings.evidence_content_types)
    files = storage(rt)
    key = service.new_key()
    try:
        stored = await files.save(key, _chunks(file), max_bytes=rt.settings.evidence_max_bytes)
    except FileTooLarge as exc:
        raise service.EvidenceTooLarge(f"The file is larger than {exc.limit} bytes") from None
    try:
        return await service.record(uow, who, stored, file.filename or "evidence", content_type)
    except BaseException:  # no row, no file
        await files.delete(key)
        raise


@router.get(
    "/v1/evidence/{evidence_id}", response_class=FileResponse, responses=problems(service.EvidenceNotFound)
)
async def download_evidence(evidence_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt) -> FileResponse:
    """Download an evidence file within your jurisdiction."""
    evidence = await service.get(uow, who, evidence_id)
    return FileResponse(
        storage(rt).path(evidence.storage_key), media_type=evidence.content_type, filename=evidence.filename
    )
