"""Backtest runs on the monitor: started by POST, run in a worker process, stored in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from libs.backtest.runner import BacktestRequest, run_request
from libs.backtest.sources import CsvBarSource
from libs.common.logging import get_logger
from services.monitor.api import MonitorContext

log = get_logger(__name__)
router = APIRouter(tags=["backtest"])


def run_in_worker(request_json: str, data_dir: str) -> dict[str, Any]:
    """Run one backtest (in a worker process)."""
    request = BacktestRequest.model_validate_json(request_json)
    return run_request(request, CsvBarSource(Path(data_dir)))


async def store_result(pool: asyncpg.Pool, run_id: uuid.UUID, document: dict[str, Any]) -> None:
    """Write a finished run's summary and trades in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO ledger.backtest_trades (run_id, seq, signal, entry_time, exit_time, "
            "exit_reason, net_pnl, uses_model_prices, trade) "
            "VALUES ($1, $2, $3, $4::text::timestamptz, $5::text::timestamptz, $6, "
            "$7::text::numeric, $8, $9)",
            [
                (
                    run_id,
                    n,
                    t.get("signal", "?"),
                    t.get("entry_time"),
                    t.get("exit_time"),
                    t.get("exit_reason"),
                    None if t.get("net_pnl") is None else str(t["net_pnl"]),
                    t.get("uses_model_prices"),
                    json.dumps(t),
                )
                for n, t in enumerate(document.get("trades", []))
            ],
        )
        await conn.execute(
            "UPDATE ledger.backtest_runs SET status = 'done', summary = $2, per_signal = $3, "
            "config = $4, equity_curve = $5, model_price_flag = $6, run_info = $7, "
            "finished_at = now() WHERE run_id = $1",
            run_id,
            json.dumps(document.get("summary")),
            json.dumps(document.get("per_signal")),
            json.dumps(document.get("config")),
            json.dumps(document.get("equity_curve")),
            json.dumps(document.get("model_price_flag")),
            json.dumps(document.get("run")),
        )


async def execute_run(
    pool: asyncpg.Pool,
    workers: ProcessPoolExecutor,
    run_id: uuid.UUID,
    request: BacktestRequest,
    data_dir: Path,
) -> None:
    """Run and store one backtest; a failure is stored with its message, never raised."""
    loop = asyncio.get_running_loop()
    try:
        document = await loop.run_in_executor(
            workers, run_in_worker, request.model_dump_json(), str(data_dir)
        )
        await store_result(pool, run_id, document)
        log.info("backtest_done", run_id=str(run_id), trades=len(document.get("trades", [])))
    except Exception as exc:
        log.error("backtest_failed", run_id=str(run_id), error=repr(exc), exc_info=True)
        await pool.execute(
            "UPDATE ledger.backtest_runs SET status = 'failed', error = $2, finished_at = now() "
            "WHERE run_id = $1",
            run_id,
            f"{type(exc).__name__}: {exc}"[:2000],
        )


@router.post("/api/v2/backtest", status_code=202, summary="Start a backtest run")
async def start_backtest(request: Request) -> JSONResponse:
    """Validate the request, store the run and start it; poll GET /api/v2/backtest/{id}."""
    ctx: MonitorContext = request.app.state.ctx
    try:
        body = BacktestRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(status_code=422, content={"error": errors})
    run_id = uuid.uuid4()
    await ctx.pool.execute(
        "INSERT INTO ledger.backtest_runs (run_id, request, status, created_at) "
        "VALUES ($1, $2, 'running', $3)",
        run_id,
        body.model_dump_json(),
        ctx.clock.now(),
    )
    backtests = request.app.state.backtests
    backtests.tasks.spawn(
        execute_run(ctx.pool, backtests.workers, run_id, body, backtests.data_dir),
        f"backtest-{run_id}",
    )
    return JSONResponse(
        status_code=202,
        content={"run_id": str(run_id), "status": "running", "url": f"/api/v2/backtest/{run_id}"},
    )


@router.get("/api/v2/backtest/{run_id}", summary="A backtest run: status, summary and trades")
async def get_backtest(request: Request, run_id: uuid.UUID, trades: bool = True) -> JSONResponse:
    """The stored run; ``trades=false`` leaves the trade list out."""
    ctx: MonitorContext = request.app.state.ctx
    row = await ctx.pool.fetchrow("SELECT * FROM ledger.backtest_runs WHERE run_id = $1", run_id)
    if row is None:
        return JSONResponse(status_code=404, content={"error": f"no backtest run {run_id}"})
    body: dict[str, Any] = {
        "run_id": str(run_id),
        "status": row["status"],
        "request": json.loads(row["request"]),
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        "error": row["error"],
    }
    for key in ("summary", "per_signal", "config", "equity_curve", "model_price_flag"):
        body[key] = json.loads(row[key]) if row[key] is not None else None
    if trades and row["status"] == "done":
        stored = await ctx.pool.fetch(
            "SELECT trade FROM ledger.backtest_trades WHERE run_id = $1 ORDER BY seq", run_id
        )
        body["trades"] = [json.loads(r["trade"]) for r in stored]
    return JSONResponse(body)
