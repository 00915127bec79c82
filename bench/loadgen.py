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

RESPONSE_TIMEOUT = 30.0  # a server that stops answering fails the run instead of hanging it


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

    def check(self, label: str) -> None:
        """Refuse a figure that is not of successful requests."""
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        if not self.requests or ok < 0.99 * self.requests:
            raise RuntimeError(f"{label}: {ok} of {self.requests} requests succeeded, {self.statuses}")

    def line(self, label: str) -> str:
        return (
            f"{label:<48} {self.rate:8.0f} req/s   p50 {self.percentile(50):6.2f} ms   "
            f"p99 {self.percentile(99):6.2f} ms   statuses {dict(sorted(self.statuses.items()))}"
        )


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:  # a streamed response: sized chunks up to an empty one, then the (empty) trailer
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    elif length:
        await reader.readexactly(length)
    return status


@dataclass(frozen=True)
class Target:
    """What each request asks: a JSON POST of ``make_body(n)`` to ``path``, or without one a GET."""

    port: int
    path: str
    headers: dict[str, str]
    make_body: Callable[[int], bytes] | None = None

    def request(self, n: int) -> bytes:
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        if self.make_body is None:
            return f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode()
        body = self.make_body(n)
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n"
        ).encode() + body


@dataclass(frozen=True)
class Load:
    """``concurrency`` connections kept busy for ``warmup + duration`` seconds; the last ``duration``
    is measured."""

    concurrency: int
    duration: float
    warmup: float


async def run(target: Target, load: Load) -> Result:
    counter = 0
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    measuring = False
    stop_at = time.perf_counter() + load.warmup + load.duration

    async def client() -> None:
        nonlocal counter
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            while time.perf_counter() < stop_at:
                counter += 1
                request = target.request(counter)
                started = time.perf_counter()
                writer.write(request)
                status = await asyncio.wait_for(_read_response(reader), RESPONSE_TIMEOUT)
                if measuring:
                    latencies.append(time.perf_counter() - started)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def clock() -> float:
        nonlocal measuring
        await asyncio.sleep(load.warmup)
        measuring = True
        began = time.perf_counter()
        await asyncio.sleep(load.duration)
        return time.perf_counter() - began

    timer = asyncio.create_task(clock())
    await asyncio.gather(*(client() for _ in range(load.concurrency)))
    seconds = await timer
    return Result(len(latencies), seconds, latencies, statuses)


def measure(label: str, target: Target, load: Load) -> Result:
    """``run`` from synchronous code: printed, and refused unless its requests succeeded."""
    result = asyncio.run(run(target, load))
    print(result.line(label), flush=True)
    result.check(label)
    return result


def compare(name: str, dudao: Result, bare: Result, goals: str) -> dict[str, float]:
    """Dudao's figures beside the bare stack's, under keys that start with ``name``; printed."""
    figures = {
        f"{name}_per_s": dudao.rate,
        f"{name}_bare_per_s": bare.rate,
        f"{name}_ratio": dudao.rate / bare.rate,
        f"{name}_p50_ms": dudao.percentile(50),
        f"{name}_p99_ms": dudao.percentile(99),
        f"{name}_bare_p99_ms": bare.percentile(99),
        f"{name}_p99_ratio": dudao.percentile(99) / bare.percentile(99),
    }
    print(
        f"  Dudao/bare: {figures[f'{name}_ratio']:.2f}x req/s, p99 {figures[f'{name}_p99_ratio']:.2f}x "
        f"({goals})",
        flush=True,
    )
    return figures
