"""The baseline for bench/write_path.py: FastAPI + asyncpg, two inserts in one transaction, nothing else."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DDL = """
CREATE SCHEMA IF NOT EXISTS bare;
CREATE TABLE IF NOT EXISTS bare.record (id uuid PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS bare.event (id uuid PRIMARY KEY, record_id uuid NOT NULL, body jsonb NOT NULL);
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BENCH_PG_URL"], min_size=10, max_size=10)
    async with pool.acquire() as conn:
        await conn.execute(DDL)
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/records", status_code=201)
async def create(request: Request) -> JSONResponse:
    body: dict[str, Any] = await request.json()
    record_id = uuid.uuid4()
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO bare.record (id, body) VALUES ($1, $2::jsonb)", record_id, json.dumps(body)
        )
        await conn.execute(
            "INSERT INTO bare.event (id, record_id, body) VALUES ($1, $2, $3::jsonb)",
            uuid.uuid4(),
            record_id,
            json.dumps(body),
        )
    return JSONResponse({"id": str(record_id), **body}, status_code=201)
