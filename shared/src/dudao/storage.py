"""Where evidence files live. Local disk for now; the interface lets a deployment use object storage."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dudao.evidence import content


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class EvidenceStorage(Protocol):
    async def save(self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredFile: ...

    def path(self, key: str) -> Path: ...

    async def content_type(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...


class LocalDiskStorage:
    """Files under ``root``, written to a temporary name and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if "/" in key or key.startswith("."):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    async def save(self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredFile:
        target = self.path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        digest = hashlib.sha256()
        size = 0
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(max_bytes)
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
        except BaseException:
            handle.close()
            await asyncio.to_thread(partial.unlink, True)
            raise
        handle.close()
        await asyncio.to_thread(partial.replace, target)
        return StoredFile(key, size, digest.hexdigest())

    async def content_type(self, key: str) -> str | None:
        """What the stored bytes are, whatever the uploader declared (None: nothing recognisable)."""
        return await asyncio.to_thread(content.detect, self.path(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, True)
