"""Evidence files (佐证材料): a kit capability that visits, findings and rectification reports all use.

A service mounts ``endpoints.router`` (``POST /v1/evidence``, ``GET /v1/evidence/{id}``); records name
uploaded files by id and check them with ``service.require_usable``. Only allowed content types are
accepted, and only when the bytes are what the upload declares (``content``); a file is kept and served
as the type found, as an attachment. A file over the size limit is refused with 413, and a file is
never seen half-written: its bytes are renamed into place when complete, and removed again if its row
is not written. An agency reads the files it uploaded, not the rest of its county's.
"""
