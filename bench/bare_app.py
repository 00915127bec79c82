"""The bare stack Dudao's endpoints are measured against: FastAPI + asyncpg and nothing else.

``POST /records``: two inserts in one transaction (for bench/write_path.py); ``GET /schools``: a page of
schools under a division, the columns as JSON (for bench/schools.py).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

DDL = """
CREATE SCHEMA IF NOT EXISTS bare;
CREATE TABLE IF NOT EXISTS bare.record (id uuid PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS bare.event (id uuid PRIMARY KEY, record_id uuid NOT NULL, body jsonb NOT NULL);
"""
SCHOOLS = """
SELECT id, school_code, name, school_type, ownership, division_code, address, enrolment,
       pupils_kindergarten, pupils_primary, pupils_junior, pupils_senior, pupils_vocational,
       principal_name, principal_phone_sealed, version, created_at, updated_at
FROM inspection.school WHERE division_code LIKE $1 ORDER BY id LIMIT $2
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


def _json_value(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@app.get("/schools")
async def schools(division: str, limit: int = 50) -> Response:
    rows = await app.state.pool.fetch(SCHOOLS, division + "%", limit)
    items = [dict(row) for row in rows]
    page = {"items": items, "next_cursor": str(items[-1]["id"]) if len(items) == limit else None}
    body = json.dumps(page, default=_json_value, ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type="application/json")
