"""The rules of evidence files. No SQL, no commit: the unit of work commits the row and its audit entry."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.errors import DomainError, InvalidInput, NotFound
from dudao.evidence import content, repository
from dudao.evidence.models import EvidenceFile
from dudao.ids import uuid7
from dudao.storage import StoredFile
from dudao.uow import UnitOfWork


class EvidenceNotFound(NotFound):
    type = "evidence-not-found"
    title = "No such evidence file"


class EvidenceRefused(InvalidInput):
    type = "evidence-refused"
    title = "The file is not acceptable as evidence"


class EvidenceContentMismatch(DomainError):
    """415: RFC 9110 names the content found "as a result of inspecting the data directly"."""

    status = 415
    type = "evidence-content-mismatch"
    title = "The file's content is not of the type it was sent as"


class UnknownEvidence(InvalidInput):
    type = "unknown-evidence"
    title = "An evidence file does not exist or is not yours to use"


def _plain_name(filename: str) -> str:
    """The last part of a client's path, without control or format characters (a NUL, a right-to-left
    override that turns ``fdp.exe`` around)."""
    name = re.split(r"[/\\]", filename)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"}).strip(" .")
    return name[:250] or "evidence"


def new_key() -> str:
    return uuid7().hex


def check_type(content_type: str, allowed: Collection[str]) -> None:
    if content_type not in allowed:
        raise EvidenceRefused(
            f"{content_type or 'an unknown type'} is not accepted; send one of {', '.join(allowed)}"
        )


async def record(
    uow: UnitOfWork, who: Principal, stored: StoredFile, filename: str, declared: str, detected: str | None
) -> EvidenceFile:
    """The row of a file whose bytes are stored, in the uploader's division, if its content is the
    (accepted) type it was ``declared`` as: kept as the type ``detected`` in its bytes."""
    if stored.size == 0:
        raise EvidenceRefused("The file is empty")
    if detected is None or detected != declared:
        found = f"its content is {detected}" if detected else "its content is no recognisable file"
        raise EvidenceContentMismatch(
            f"It was sent as {declared}, but {found}", declared=declared, detected=detected
        )
    evidence = EvidenceFile(
        id=uuid7(),
        filename=content.named(_plain_name(filename), detected),
        content_type=detected,
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
    """A file the caller may read: within its jurisdiction and, for an agency, its own (404 otherwise)."""
    evidence = await repository.get_visible(uow.session, who, evidence_id)
    if evidence is None:
        raise EvidenceNotFound(f"Evidence {evidence_id} does not exist")
    return evidence


async def require_usable(uow: UnitOfWork, who: Principal, ids: Collection[UUID]) -> None:
    """Every file a record names exists within the caller's jurisdiction (422 ``unknown-evidence``)."""
    unique = sorted(set(ids))
    if unique and await repository.count_visible(uow.session, who, unique) != len(unique):
        raise UnknownEvidence("Upload evidence with POST /v1/evidence first, then name its ids")
