"""A minimal keep-alive HTTP/1.1 load generator on asyncio streams.

Python HTTP clients cost more CPU per request than the servers under test, which on a two-core machine
would compress every ratio towards 1. This one writes raw requests and parses only the status line and
Content-Length, so the servers, not the client, set the pace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


def percentile(seconds: list[float], p: float) -> float:
    """The p-th percentile of ``seconds``, in milliseconds."""
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)

    def line(self, label: str) -> str:
        return (
            f"{label:<48} {self.rate:8.0f} req/s   p50 {self.percentile(50):6.2f} ms   "
            f"p99 {self.percentile(99):6.2f} ms   statuses {dict(sorted(self.statuses.items()))}"
        )


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def run(
    port: int,
    path: str,
    make_body: Callable[[int], bytes],
    headers: dict[str, str],
    *,
    concurrency: int,
    duration: float,
    warmup: float = 2.0,
) -> Result:
    counter = 0
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    measuring = False
    stop_at = time.perf_counter() + warmup + duration

    async def client() -> None:
        nonlocal counter
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                counter += 1
                body = make_body(counter)
                request = (
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n{head}\r\n"
                ).encode() + body
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                if measuring:
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def clock() -> float:
        nonlocal measuring
        await asyncio.sleep(warmup)
        measuring = True
        began = time.perf_counter()
        await asyncio.sleep(duration)
        return time.perf_counter() - began

    timer = asyncio.create_task(clock())
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = await timer
    return Result(len(latencies), seconds, latencies, statuses)
