"""What an evidence file is, by its bytes rather than by what the client declares.

Magic numbers by ``filetype``; two kinds of container by what they hold, since their first bytes say
little: a DOCX and an XLSX are both ZIP archives, told apart by the parts their directory lists, and an
MP4 is told from other ISO media (QuickTime, HEIF images) by the brands of its ``ftyp`` box.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import filetype

HEAD_BYTES = 8192  # as much as filetype's matchers look at

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
MP4 = "video/mp4"
QUICKTIME = "video/quicktime"
# Brands an MP4 player reads (ISO/IEC 14496-12 and -14); "qt  " is QuickTime's own, not MP4.
_MP4_BRANDS = frozenset({"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash"})
_OTHER_SUFFIXES = {"image/jpeg": (".jpeg", ".jpe")}


def detect(path: Path) -> str | None:
    """The content type of the file at ``path``, None when it is nothing recognisable. Blocking: reads
    the head of the file and, for an archive, its directory (never its contents)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _archive(path)
    guessed = _magic(head)
    if head[4:8] == b"ftyp" and not (guessed or "").startswith("image/"):
        return _iso_media(head)
    return guessed


def named(filename: str, content_type: str) -> str:
    """``filename`` ending as a file of ``content_type`` does, so that the name a download is saved
    under opens it as what it is (``报告.exe`` holding a PDF is kept as ``报告.exe.pdf``)."""
    kind = filetype.get_type(mime=content_type)
    if kind is None:
        return filename
    suffixes = (f".{kind.extension}", *_OTHER_SUFFIXES.get(content_type, ()))
    return filename if filename.lower().endswith(suffixes) else f"{filename}.{kind.extension}"


def _archive(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError):
        return None  # a local header, but no directory: not a whole archive
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return ZIP  # a plain archive, or an Office file with macros: neither is a DOCX or an XLSX
    word, sheet = "word/document.xml" in names, "xl/workbook.xml" in names
    if word != sheet:
        return DOCX if word else XLSX
    return ZIP


def _iso_media(head: bytes) -> str | None:
    size = struct.unpack(">I", head[:4])[0]
    if not 16 <= size <= len(head) or size % 4:
        return None
    major = head[8:12].decode("latin-1")
    compatible = {head[i : i + 4].decode("latin-1") for i in range(16, size, 4)}
    if major == "qt  ":
        return QUICKTIME
    if major in _MP4_BRANDS or compatible & _MP4_BRANDS:
        return MP4
    return _magic(head)


def _magic(head: bytes) -> str | None:
    mime: str | None = filetype.guess_mime(head)
    return mime
