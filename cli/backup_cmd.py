"""``strikeflow backup`` and ``strikeflow restore``: the database in pg_dump's custom format.

The dump and restore tools are taken from the PostgreSQL installation whose major version matches
the server (``/usr/lib/postgresql/<major>/bin``), or the nearest newer one. The password never
appears on a command line: it is passed to the tools in ``PGPASSWORD``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
import typer

from cli.audit_cmd import DatabaseUrlOpt, chain_status, err, fail, out, resolve_database_url

PG_ROOT = Path("/usr/lib/postgresql")

# User relations (tables, views, sequences...) outside the system schemas.
_USER_RELATIONS = (
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
    "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def split_password(url: str) -> tuple[str, str | None]:
    """The DSN without its password, and the password (for ``PGPASSWORD``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), unquote(parts.password)


def tool_path(tool: str, server_major: int, root: Path = PG_ROOT) -> Path:
    """``root/<major>/bin/<tool>`` for the server's major version, else the nearest newer one."""
    majors = sorted(
        int(d.name) for d in root.glob("*") if d.name.isdigit() and (d / "bin" / tool).is_file()
    )
    usable = [m for m in majors if m >= server_major]
    if not usable:
        found = ", ".join(map(str, majors)) or "none"
        raise FileNotFoundError(
            f"no {tool} for PostgreSQL {server_major} or newer under {root} (found: {found})"
        )
    return root / str(usable[0]) / "bin" / tool


async def _inspect(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        version = int(await conn.fetchval("SHOW server_version_num"))
        relations = int(await conn.fetchval(_USER_RELATIONS))
    finally:
        await conn.close()
    return version // 10000, relations


def _run(tool: Path, args: list[str], password: str | None) -> None:
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    done = subprocess.run([str(tool), *args], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        fail(f"{tool.name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}", 1)


def _connect_info(url: str) -> tuple[int, int]:
    try:
        return asyncio.run(_inspect(url))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        fail(f"cannot connect to PostgreSQL: {exc}", 2)


def backup(
    out_file: Annotated[Path, typer.Option("--out", help="File to write (pg_dump custom format)")],
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Dump the whole database (ledger, risk and executor state) to one file."""
    url = resolve_database_url(database_url)
    major, _ = _connect_info(url)
    try:
        pg_dump = tool_path("pg_dump", major)
    except FileNotFoundError as exc:
        fail(str(exc), 2)
    dsn, password = split_password(url)
    _run(pg_dump, ["--format=custom", "--file", str(out_file), "--dbname", dsn], password)
    out.print(
        f"backup written: {out_file} ({out_file.stat().st_size} bytes, "
        f"PostgreSQL {major}, {pg_dump})"
    )


def restore(
    from_file: Annotated[
        Path, typer.Option("--from", exists=True, dir_okay=False, help="A `backup` file")
    ],
    database_url: Annotated[
        str, typer.Option("--database-url", help="The database to restore into")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the contents of a non-empty database")
    ] = False,
) -> None:
    """Restore a backup into an empty database, in one transaction, then verify the audit log."""
    major, relations = _connect_info(database_url)
    if relations and not force:
        fail(
            f"the target database is not empty ({relations} relations); "
            "restore into a new database or pass --force to replace its contents",
            1,
        )
    try:
        pg_restore = tool_path("pg_restore", major)
    except FileNotFoundError as exc:
        fail(str(exc), 2)
    dsn, password = split_password(database_url)
    args = ["--no-owner", "--exit-on-error", "--single-transaction", "--dbname", dsn]
    if relations:
        args[:0] = ["--clean", "--if-exists"]
    _run(pg_restore, [*args, str(from_file)], password)
    chain = asyncio.run(chain_status(database_url))
    if chain.broken is not None:
        err.print(f"[bold red]restored, but the audit chain is broken at seq {chain.broken.seq}")
        raise typer.Exit(1)
    out.print(f"restored {from_file}; audit chain verified: {chain.checked} entries")
