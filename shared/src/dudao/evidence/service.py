"""The rules of evidence files. No SQL, no commit: the unit of work commits the row and its audit entry."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.errors import DomainError, InvalidInput, NotFound
from dudao.evidence import repository
from dudao.evidence.models import EvidenceFile
from dudao.ids import uuid7
from dudao.jurisdiction import require_visible
from dudao.storage import StoredFile
from dudao.uow import UnitOfWork


class EvidenceNotFound(NotFound):
    type = "evidence-not-found"
    title = "No such evidence file"


class EvidenceRefused(InvalidInput):
    type = "evidence-refused"
    title = "The file is not acceptable as evidence"


class EvidenceTooLarge(DomainError):
    status = 413
    type = "evidence-too-large"
    title = "The file is larger than evidence may be"


class UnknownEvidence(InvalidInput):
    type = "unknown-evidence"
    title = "An evidence file does not exist or is not yours to use"


def new_key() -> str:
    return uuid7().hex


def check_type(content_type: str, allowed: Collection[str]) -> None:
    if content_type not in allowed:
        raise EvidenceRefused(
            f"{content_type or 'an unknown type'} is not accepted; send one of {', '.join(allowed)}"
        )


async def record(
    uow: UnitOfWork, who: Principal, stored: StoredFile, filename: str, content_type: str
) -> EvidenceFile:
    """The row of a file whose bytes are stored, in the uploader's division."""
    if stored.size == 0:
        raise EvidenceRefused("The file is empty")
    evidence = EvidenceFile(
        id=uuid7(),
        filename=filename[:255],
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        division_code=who.division,
        uploaded_by=who.sub,
        uploaded_at=uow.clock.now(),
    )
    await repository.add(uow.session, evidence)
    uow.record(
        "evidence.uploaded",
        "evidence_file",
        evidence.id,
        evidence.division_code,
        sha256=evidence.sha256,
        size=evidence.size,
    )
    return evidence


async def get(uow: UnitOfWork, who: Principal, evidence_id: UUID) -> EvidenceFile:
    missing = EvidenceNotFound(f"Evidence {evidence_id} does not exist")
    return await require_visible(uow.session, who, EvidenceFile, evidence_id, missing)


async def require_usable(uow: UnitOfWork, who: Principal, ids: Collection[UUID]) -> None:
    """Every file a record names exists within the caller's jurisdiction (422 ``unknown-evidence``)."""
    unique = sorted(set(ids))
    if unique and await repository.count_visible(uow.session, who, unique) != len(unique):
        raise UnknownEvidence("Upload evidence with POST /v1/evidence first, then name its ids")
