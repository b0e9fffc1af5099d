"""The yardstick of benchmarks/ingest.py: a bare FastAPI endpoint that writes each request
body to PostgreSQL with one autocommitted INSERT, and nothing else.

    BARE_DATABASE_URL=postgresql://... uvicorn benchmarks.bare_ingest_app:app
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request

POOL_SIZE = 20


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A plain pool: a queue of autocommit connections.
    pool: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()
    for _ in range(POOL_SIZE):
        pool.put_nowait(
            await psycopg.AsyncConnection.connect(os.environ["BARE_DATABASE_URL"], autocommit=True)
        )
    app.state.pool = pool
    yield
    while not pool.empty():
        await pool.get_nowait().close()


app = FastAPI(lifespan=lifespan)


@app.post("/ingest", status_code=202)
async def ingest(request: Request) -> dict[str, int]:
    body = await request.body()
    pool = request.app.state.pool
    conn = await pool.get()
    try:
        cur = await conn.execute(
            "INSERT INTO bare_logs (body) VALUES (%s::jsonb) RETURNING id", (body.decode(),)
        )
        row = await cur.fetchone()
    finally:
        pool.put_nowait(conn)
    return {"id": row[0] if row else 0}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
