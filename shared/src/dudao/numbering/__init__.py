"""Document numbering (文号): a kit capability each issuing service runs in its own schema.

``reserve`` hands out the next serials of any number of (office, kind, year) series in one statement,
gapless, inside the caller's transaction. A number starts with the office's abbreviation (机关代字):
governance is the one source of those (``SupervisionOfficeRecorded``), which ``consumers`` projects into
the service's ``issuing_office``; an office governance has not recorded yet gets the default rule.
"""

from __future__ import annotations

from dudao.numbering.handlers import consumers
from dudao.numbering.models import DocumentSequence, IssuingOffice, only_these_tables
from dudao.numbering.service import (
    KIND_CHARACTERS,
    DocumentNumber,
    IssuingOfficeView,
    UnknownDocumentKind,
    Wanted,
    default_abbreviation,
    issuing_office,
    reserve,
)

__all__ = [
    "KIND_CHARACTERS",
    "DocumentNumber",
    "DocumentSequence",
    "IssuingOffice",
    "IssuingOfficeView",
    "UnknownDocumentKind",
    "Wanted",
    "consumers",
    "default_abbreviation",
    "issuing_office",
    "only_these_tables",
    "reserve",
]
