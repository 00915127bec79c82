"""The stack's own limits, measured in the same run as a Dudao figure so that ratios mean something."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import asyncpg
import nats
from nats.aio.msg import Msg

from loadgen import percentile


async def nats_publish_to_receive(nats_url: str, messages: int = 2000) -> tuple[float, float]:
    """p50/p99 milliseconds from a JetStream publish (acked) to a core subscriber receiving it."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    subject = f"bench.latency.{uuid.uuid4().hex[:8]}"  # outside dudao.>, which the DUDAO stream owns
    stream = f"BENCH_{uuid.uuid4().hex[:8]}"
    await js.add_stream(name=stream, subjects=[subject], storage="memory")
    latencies: list[float] = []
    received = asyncio.Event()

    async def on_message(msg: Msg) -> None:
        latencies.append(time.perf_counter() - float(msg.data))
        if len(latencies) == messages:
            received.set()

    await nc.subscribe(subject, cb=on_message)
    for _ in range(messages):
        await js.publish(subject, str(time.perf_counter()).encode())
    await asyncio.wait_for(received.wait(), 30)
    await js.delete_stream(stream)
    await nc.close()
    return percentile(latencies, 50), percentile(latencies, 99)


async def postgres_insert_rate(database_url: str, rows: int = 20_000, concurrency: int = 8) -> float:
    """Single-row committed inserts per second from ``concurrency`` connections."""
    pool = await asyncpg.create_pool(database_url, min_size=concurrency, max_size=concurrency)
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_insert (id uuid PRIMARY KEY, body jsonb)")
    per_worker = rows // concurrency

    async def worker() -> None:
        async with pool.acquire() as conn:
            for _ in range(per_worker):
                await conn.execute("INSERT INTO bench_insert VALUES ($1, '{}'::jsonb)", uuid.uuid4())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE bench_insert")
    await pool.close()
    return per_worker * concurrency / elapsed


async def postgres_executemany_rate(database_url: str, rows: int = 10_000) -> float:
    """Rows per second of one ``executemany`` insert, committed, from one connection."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE TABLE bench_executemany (id uuid PRIMARY KEY, body jsonb NOT NULL)")
        records = [(uuid.uuid4(), f'{{"n": {n}}}') for n in range(rows)]
        started = time.perf_counter()
        async with conn.transaction():
            await conn.executemany("INSERT INTO bench_executemany VALUES ($1, $2::jsonb)", records)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_executemany")
    finally:
        await conn.close()
    return rows / elapsed


async def postgres_copy_seconds(
    database_url: str, written: Sequence[tuple[str, str, object]]
) -> tuple[int, float]:
    """Rows and seconds of one committed COPY of rows already written, each ``(table, query, argument)``
    copied into a scratch table shaped like ``table`` (its columns, defaults, constraints and indexes)."""
    conn = await asyncpg.connect(database_url)
    try:
        loads = []
        for i, (like, query, argument) in enumerate(written):
            scratch = f"bench_copy_{i}"
            await conn.execute(f"CREATE TABLE {scratch} (LIKE {like} INCLUDING ALL)")
            rows = await conn.fetch(query, argument)
            loads.append((scratch, list(rows[0].keys()) if rows else [], [tuple(r) for r in rows]))
        started = time.perf_counter()
        async with conn.transaction():
            for scratch, columns, records in loads:
                await conn.copy_records_to_table(scratch, records=records, columns=columns)
        elapsed = time.perf_counter() - started
        for scratch, _, _ in loads:
            await conn.execute(f"DROP TABLE {scratch}")
    finally:
        await conn.close()
    return sum(len(records) for _, _, records in loads), elapsed
