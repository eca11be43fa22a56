"""The local stack without Docker: Kafka (KRaft) and PostgreSQL plus the five services.

Kafka runs from Maven Central jars, PostgreSQL (and Prometheus, when installed) from the system's
packages, and supervisord keeps every process (restarting a service that dies). All state lives
under ``.state/``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "risk", "executor", "ledger", "monitor")
LOCAL_WEBHOOK_SECRET = "local-dev-webhook-secret"  # noqa: S105 - loopback-only default
LOCAL_OPERATOR_TOKEN = "local-dev-operator-token"  # noqa: S105 - loopback-only default

_CTL = (sys.executable, "-m", "supervisor.supervisorctl")

app = typer.Typer(help="Run strikeflow's local stack (Kafka, PostgreSQL, five services).")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Layout:
    """Where everything lives and which ports it uses."""

    state: Path
    kafka_port: int
    controller_port: int
    pg_port: int
    ports: dict[str, int]
    prometheus_port: int = 19090

    @classmethod
    def from_env(cls) -> Layout:
        """Read the state folder and ports from the environment."""
        state = Path(os.environ.get("STRIKEFLOW_STATE_DIR", ROOT / ".state")).resolve()
        ports = {
            "monitor": _env_int("MONITOR_HTTP_PORT", 18000),
            "ingest": _env_int("INGEST_HTTP_PORT", 18001),
            "risk": _env_int("RISK_HTTP_PORT", 18002),
            "executor": _env_int("EXECUTOR_HTTP_PORT", 18003),
            "ledger": _env_int("LEDGER_HTTP_PORT", 18004),
        }
        return cls(
            state=state,
            kafka_port=_env_int("STRIKEFLOW_KAFKA_PORT", 19092),
            controller_port=_env_int("STRIKEFLOW_KAFKA_CONTROLLER_PORT", 19093),
            pg_port=_env_int("STRIKEFLOW_PG_PORT", 15432),
            ports=ports,
            prometheus_port=_env_int("STRIKEFLOW_PROMETHEUS_PORT", 19090),
        )

    @property
    def kafka_dir(self) -> Path:
        return self.state / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_dir / "libs"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def prometheus_dir(self) -> Path:
        return self.state / "prometheus"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def supervisor_conf(self) -> Path:
        return self.state / "supervisord.conf"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql://strikeflow@127.0.0.1:{self.pg_port}/strikeflow"

    def pg_data(self) -> Path:
        """Data folder of the cluster; outside the checkout if the server user cannot reach it."""
        inside = self.state / "pg"
        if os.geteuid() != 0 or _postgres_can_reach(self.state):
            return inside
        digest = hashlib.sha256(str(self.state).encode()).hexdigest()[:12]
        return Path(f"/var/tmp/strikeflow-pg-{digest}")  # noqa: S108 - fixed, owned folder


def _postgres_can_reach(folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603
        ["/usr/sbin/runuser", "-u", "postgres", "--", "test", "-x", str(folder)],
        check=False,
        capture_output=True,
    )
    return result.returncode == 0


def run_step(what: str, cmd: list[str], **kwargs: object) -> None:
    """Run one set-up command; on failure print what it said and stop."""
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603
    if result.returncode != 0:
        say(f"{what} failed with exit code {result.returncode}:")
        typer.echo((result.stdout or "") + (result.stderr or ""), err=True)
        raise SystemExit(1)


def say(message: str) -> None:
    """Print one progress line."""
    typer.echo(f"[stack] {message}", err=True)


# ---------------------------------------------------------------------------------------------
# installation
# ---------------------------------------------------------------------------------------------


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise SystemExit(f"missing {' '.join(packages)}: install them (sudo apt-get install ...)")
    say(f"installing {' '.join(packages)} from Debian packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)  # noqa: S607
    subprocess.run(  # noqa: S603
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],  # noqa: S607
        check=True,
        env=env,
    )


def pg_bin() -> Path:
    """Return the folder of the newest installed PostgreSQL server binaries."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        _apt_install("postgresql")
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return found[-1].parent


def ensure_java() -> None:
    """Install a Java runtime and Maven if missing."""
    missing = [
        p
        for p, exe in (("openjdk-17-jre-headless", "java"), ("maven", "mvn"))
        if not shutil.which(exe)
    ]
    if missing:
        _apt_install(*missing)


def ensure_kafka_jars(layout: Layout) -> None:
    """Copy the broker's runtime jars from Maven Central if they are not there yet."""
    marker = layout.kafka_libs / ".complete"
    if marker.exists():
        return
    ensure_java()
    layout.kafka_libs.mkdir(parents=True, exist_ok=True)
    say("fetching Apache Kafka 4.1.1 jars from Maven Central")
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "mvn",
            "-B",
            "-q",
            "-f",
            str(ROOT / "deploy/local/kafka-pom.xml"),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={layout.kafka_libs}",
        ],
        check=True,
    )
    if not any(layout.kafka_libs.glob("kafka_2.13-*.jar")):
        raise SystemExit("Kafka jars missing after the Maven copy step")
    marker.touch()


# ---------------------------------------------------------------------------------------------
# configuration files
# ---------------------------------------------------------------------------------------------


def write_kafka_config(layout: Layout) -> Path:
    """Write server.properties and the log4j2 configuration; format storage once."""
    kdir = layout.kafka_dir
    data = kdir / "data"
    props = kdir / "server.properties"
    props.write_text(
        (ROOT / "deploy/local/server.properties.in")
        .read_text()
        .format(
            kafka_port=layout.kafka_port,
            controller_port=layout.controller_port,
            data_dir=data,
        )
    )
    shutil.copy(ROOT / "deploy/local/log4j2.properties", kdir / "log4j2.properties")
    if not (data / "meta.properties").exists():
        cluster_id = "-"
        while cluster_id.startswith("-"):  # the storage tool would read "-…" as an option
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        say("formatting Kafka storage")
        run_step(
            "formatting Kafka storage",
            [
                "java",
                "-Xmx256m",
                "-cp",
                f"{layout.kafka_libs}/*",
                f"-Dlog4j2.configurationFile={kdir / 'log4j2.properties'}",
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(props),
            ],
        )
    return props


def init_postgres(layout: Layout) -> Path:
    """Create the throwaway cluster if it does not exist; return its data folder."""
    data = layout.pg_data()
    if (data / "PG_VERSION").exists():
        return data
    bindir = pg_bin()
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "strikeflow",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-instructions",
    ]
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        cmd = ["/usr/sbin/runuser", "-u", "postgres", "--", *cmd]
    say(f"initialising PostgreSQL cluster in {data}")
    run_step("initdb", cmd)
    return data


def prometheus_bin() -> str | None:
    """Return the Prometheus server binary (Debian package ``prometheus``), if installed."""
    return shutil.which("prometheus")


def write_prometheus_config(layout: Layout, scrape_interval_s: int = 2) -> Path:
    """Write a Prometheus configuration scraping every service on its local port.

    The file is JSON, which is YAML too, so no YAML library is needed here.
    """
    import json

    layout.prometheus_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {
            "scrape_interval": f"{scrape_interval_s}s",
            "evaluation_interval": f"{scrape_interval_s}s",
        },
        "rule_files": [str(ROOT / "deploy/prometheus/rules/*.yml")],
        "scrape_configs": [
            {
                "job_name": "strikeflow",
                "metrics_path": "/metrics",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{layout.ports[name]}"], "labels": {"service": name}}
                    for name in SERVICES
                ],
            }
        ],
    }
    path = layout.prometheus_dir / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def _prometheus_block(layout: Layout, binary: str, logs: str) -> list[str]:
    config = write_prometheus_config(layout)
    return [
        "[program:prometheus]",
        (
            f"command={binary} --config.file={config} "
            f"--storage.tsdb.path={layout.prometheus_dir / 'data'} "
            "--storage.tsdb.retention.time=2d "
            f"--web.listen-address=127.0.0.1:{layout.prometheus_port}"
        ),
        "priority=60",
        "autostart=false",
        "autorestart=true",
        "startsecs=2",
        "stopsignal=TERM",
        "stopwaitsecs=30",
        logs,
    ]


def service_env(layout: Layout) -> dict[str, str]:
    """Environment every service gets."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": layout.bootstrap,
        "DATABASE_URL": layout.database_url,
        "WEBHOOK_SECRET": os.environ.get("WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET),
        "OPERATOR_TOKEN": os.environ.get("OPERATOR_TOKEN", LOCAL_OPERATOR_TOKEN),
        "PYTHONUNBUFFERED": "1",
    }
    for name, port in layout.ports.items():
        env[f"{name.upper()}_HTTP_PORT"] = str(port)
    for key, value in os.environ.items():
        if key.startswith(("INGEST_", "RISK_", "EXECUTOR_", "LEDGER_", "MONITOR_", "LOG_LEVEL")):
            env.setdefault(key, value)
    # The local paper stack is for trying things at any hour; production enforces market hours.
    env.setdefault("RISK_MARKET_HOURS", "ignore")
    # One instance of each service per host: a restarted service resumes its partitions at once.
    env.setdefault("KAFKA_STATIC_MEMBERSHIP", "true")
    env.setdefault("MONITOR_INGEST_URL", f"http://127.0.0.1:{layout.ports['ingest']}")
    # The executor keeps its Breeze session cache beside the rest of the stack's state.
    env.setdefault("EXECUTOR_SESSION_CACHE_PATH", str(layout.state / "breeze-session.json"))
    return env


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def write_supervisor_config(layout: Layout, foreground: bool) -> Path:
    """Write supervisord.conf for Kafka, PostgreSQL and the services."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    props = write_kafka_config(layout)
    pg_data = init_postgres(layout)
    bindir = pg_bin()
    python = sys.executable

    def logs(name: str) -> str:
        if foreground:
            return "stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n"
        return (
            f"stdout_logfile={layout.logs / name}.log\nstdout_logfile_maxbytes=20MB\n"
            "stdout_logfile_backups=2\nredirect_stderr=true\n"
        )

    kdir = layout.kafka_dir
    blocks = [
        "[unix_http_server]",
        f"file={layout.state / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={layout.logs / 'supervisord.log'}",
        f"pidfile={layout.state / 'supervisord.pid'}",
        "loglevel=warn",
        f"nodaemon={'true' if foreground else 'false'}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{layout.state / 'supervisor.sock'}",
        "",
        "[program:kafka]",
        (
            "command=java -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "
            "-Djava.awt.headless=true "
            f"-Dkafka.logs.dir={kdir / 'logs'} "
            f"-Dlog4j2.configurationFile={kdir / 'log4j2.properties'} "
            f"-cp {kdir / 'libs'}/* kafka.Kafka {props}"
        ),
        "priority=10",
        "autorestart=true",
        "startsecs=3",
        "stopsignal=TERM",
        "stopwaitsecs=30",
        "stopasgroup=true",
        "killasgroup=true",
        logs("kafka"),
        "[program:postgres]",
        (
            f"command={bindir / 'postgres'} -D {pg_data} -p {layout.pg_port} "
            "-c listen_addresses=127.0.0.1 -c unix_socket_directories= "
            "-c max_connections=100 -c shared_buffers=64MB"
        ),
        "priority=10",
        "autorestart=true",
        "startsecs=2",
        "stopsignal=INT",
        "stopwaitsecs=30",
    ]
    if os.geteuid() == 0:
        blocks.append("user=postgres")
    blocks.append(logs("postgres"))
    env = ",".join(f"{k}={_quote(v)}" for k, v in sorted(service_env(layout).items()))
    for name in SERVICES:
        blocks += [
            f"[program:{name}]",
            f"command={python} -m services.{name}.app",
            f"directory={ROOT}",
            f"environment={env}",
            "priority=50",
            "autostart=false",
            "autorestart=true",
            "startsecs=1",
            "startretries=20",
            "stopsignal=TERM",
            "stopwaitsecs=15",
            "stopasgroup=true",
            "killasgroup=true",
            logs(name),
        ]
    if (binary := prometheus_bin()) is not None:
        blocks += _prometheus_block(layout, binary, logs("prometheus"))
    layout.supervisor_conf.write_text("\n".join(blocks) + "\n")
    return layout.supervisor_conf


# ---------------------------------------------------------------------------------------------
# readiness
# ---------------------------------------------------------------------------------------------


def supervisorctl(layout: Layout, *args: str, check: bool = True) -> str:
    """Run supervisorctl against this stack's supervisord."""
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "supervisor.supervisorctl",
            "-c",
            str(layout.supervisor_conf),
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if check and result.returncode not in (0, 3):
        raise SystemExit(f"supervisorctl {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


def supervisord_running(layout: Layout) -> bool:
    """Whether this stack's supervisord answers."""
    if not layout.supervisor_conf.exists() or not (layout.state / "supervisor.sock").exists():
        return False
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "supervisor.supervisorctl",
            "-c",
            str(layout.supervisor_conf),
            "pid",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0 and result.stdout.strip().isdigit()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(what: str, ready: object, timeout_s: float) -> None:
    """Poll ``ready()`` until true or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} not ready after {timeout_s:.0f}s (see .state/logs)")


async def _pg_ready(layout: Layout) -> None:
    import asyncpg

    deadline = time.monotonic() + 60
    while True:
        try:
            conn = await asyncpg.connect(
                f"postgresql://strikeflow@127.0.0.1:{layout.pg_port}/postgres", timeout=3
            )
            break
        except (TimeoutError, OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'strikeflow'")
        if not exists:
            await conn.execute("CREATE DATABASE strikeflow")
    finally:
        await conn.close()


def init_data(layout: Layout) -> None:
    """Wait for Kafka and PostgreSQL, create topics, apply migrations."""
    import logging

    from libs.common.kafka import ensure_topics, wait_for_kafka
    from libs.common.migrate import apply_migrations

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    asyncio.run(wait_for_kafka(layout.bootstrap, timeout_s=90))
    created = asyncio.run(ensure_topics(layout.bootstrap))
    if created:
        say(f"created {len(created)} topics")
    asyncio.run(_pg_ready(layout))
    applied = apply_migrations(layout.database_url)
    if applied:
        say(f"applied migrations: {', '.join(applied)}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _health_ok(url: str) -> bool:
    import json

    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback
            return bool(json.loads(response.read())["status"] == "ok")
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return False


def urls(layout: Layout) -> list[str]:
    """Every URL a user needs."""
    p = layout.ports
    return [
        f"webhook     POST http://127.0.0.1:{p['ingest']}/api/v2/webhook/tradingview",
        f"health      GET  http://127.0.0.1:{p['monitor']}/api/v2/health",
        f"positions   GET  http://127.0.0.1:{p['monitor']}/api/v2/trading/positions",
        f"safety      GET  http://127.0.0.1:{p['monitor']}/api/v2/safety/status",
        f"operator    POST http://127.0.0.1:{p['ingest']}/api/v2/safety/kill-switch  (and more)",
        f"dry run     POST http://127.0.0.1:{p['risk']}/api/v2/safety/validate-order",
        f"API docs         http://127.0.0.1:{p['monitor']}/docs  "
        f"and http://127.0.0.1:{p['ingest']}/docs",
        "metrics          " + "  ".join(f"http://127.0.0.1:{p[s]}/metrics" for s in SERVICES),
        *(
            [f"prometheus       {layout.prometheus_url}"]
            if prometheus_bin()
            else ["prometheus       not installed (apt-get install prometheus)"]
        ),
        f"kafka            {layout.bootstrap}",
        f"postgres         {layout.database_url}",
    ]


def _market_hours_note() -> None:
    if os.environ.get("RISK_MARKET_HOURS", "ignore") == "ignore":
        typer.echo(
            "  note: market-hours checks are off in the local stack "
            "(set RISK_MARKET_HOURS=enforce to apply them)"
        )


def start_services(layout: Layout, timeout_s: float = 90) -> None:
    """Start the five services and wait until the health check says ok."""
    supervisorctl(layout, "start", *SERVICES)
    for name in SERVICES:
        port = layout.ports[name]
        wait_until(
            f"{name} on port {port}",
            lambda port=port: _http_ok(f"http://127.0.0.1:{port}/healthz"),
            timeout_s,
        )
    health = f"http://127.0.0.1:{layout.ports['monitor']}/api/v2/health"
    wait_until("/api/v2/health == ok", lambda: _health_ok(health), timeout_s)
    if prometheus_bin() is not None:
        supervisorctl(layout, "start", "prometheus")
        ready = f"{layout.prometheus_url}/-/ready"
        wait_until(f"prometheus on port {layout.prometheus_port}", lambda: _http_ok(ready), 60)


def _wipe(layout: Layout) -> None:
    for path in (layout.kafka_dir / "data", layout.pg_data(), layout.logs, layout.prometheus_dir):
        if path.exists():
            shutil.rmtree(path)


# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------


@app.command()
def install() -> None:
    """Install what is missing: Java, Maven, PostgreSQL, Prometheus, the Kafka jars."""
    layout = Layout.from_env()
    layout.state.mkdir(parents=True, exist_ok=True)
    ensure_kafka_jars(layout)
    pg_bin()
    if not shutil.which("chromium"):
        if os.geteuid() == 0:
            _apt_install("chromium", "fonts-dejavu-core")
        else:
            say("chromium not found: the browser tests need it (apt-get install chromium)")
    if prometheus_bin() is None:
        if os.geteuid() == 0:
            _apt_install("prometheus")
        else:
            say("prometheus not found: the metrics tests need it (apt-get install prometheus)")
    say("everything installed")


@app.command()
def up(
    fresh: bool = typer.Option(False, help="Delete Kafka and PostgreSQL data first"),
    infra_only: bool = typer.Option(False, help="Start Kafka and PostgreSQL only"),
) -> None:
    """Start everything in the background; return when every part is healthy."""
    layout = Layout.from_env()
    if supervisord_running(layout):
        say("stack already running; stopping it first")
        down()
    layout.state.mkdir(parents=True, exist_ok=True)
    ensure_kafka_jars(layout)
    if fresh:
        _wipe(layout)
    conf = write_supervisor_config(layout, foreground=False)
    run_step(
        "starting supervisord", [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)]
    )
    init_data(layout)
    if not infra_only:
        start_services(layout)
    typer.echo("strikeflow is up (paper mode):")
    _market_hours_note()
    for line in urls(layout):
        typer.echo(f"  {line}")


@app.command()
def run() -> None:
    """Start everything in the foreground; Ctrl-C stops it all."""
    layout = Layout.from_env()
    if supervisord_running(layout):
        raise SystemExit("the stack is already running in the background: `make down` first")
    layout.state.mkdir(parents=True, exist_ok=True)
    ensure_kafka_jars(layout)
    conf = write_supervisor_config(layout, foreground=True)
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)]
    )

    def stop(_signum: int, _frame: object) -> None:
        say("stopping")
        child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        wait_until("supervisord", lambda: supervisord_running(layout), 30)
        init_data(layout)
        start_services(layout)
        typer.echo("strikeflow is running (paper mode); Ctrl-C stops it:")
        _market_hours_note()
        for line in urls(layout):
            typer.echo(f"  {line}")
    except SystemExit:
        child.send_signal(signal.SIGTERM)
        child.wait()
        raise
    child.wait()


@app.command()
def down() -> None:
    """Stop every process the stack started."""
    layout = Layout.from_env()
    if supervisord_running(layout):
        extra = ("prometheus",) if prometheus_bin() is not None else ()
        supervisorctl(layout, "stop", *extra, *SERVICES, check=False)
        supervisorctl(layout, "shutdown", check=False)
        wait_until("supervisord exit", lambda: not supervisord_running(layout), 60)
    pidfile = layout.state / "supervisord.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text().strip() or 0)
        deadline = time.monotonic() + 60
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    ports = [
        layout.kafka_port,
        layout.controller_port,
        layout.pg_port,
        layout.prometheus_port,
        *layout.ports.values(),
    ]
    wait_until("ports to close", lambda: not any(_port_open(p) for p in ports), 30)
    say("stack stopped")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@app.command()
def status() -> None:
    """Show each part's process state and the health check."""
    layout = Layout.from_env()
    if not supervisord_running(layout):
        typer.echo("stack is not running")
        raise typer.Exit(1)
    typer.echo(supervisorctl(layout, "status", check=False).rstrip())
    health = f"http://127.0.0.1:{layout.ports['monitor']}/api/v2/health"
    try:
        with urllib.request.urlopen(health, timeout=3) as response:
            typer.echo(response.read().decode())
    except urllib.error.HTTPError as exc:
        typer.echo(exc.read().decode())
    except (urllib.error.URLError, OSError) as exc:
        typer.echo(f"health: unreachable ({exc})")


@app.command()
def env() -> None:
    """Print the environment variables tests and tools use to reach the stack."""
    layout = Layout.from_env()
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": layout.bootstrap,
        "DATABASE_URL": layout.database_url,
        "STRIKEFLOW_MONITOR_URL": f"http://127.0.0.1:{layout.ports['monitor']}",
        "STRIKEFLOW_INGEST_URL": f"http://127.0.0.1:{layout.ports['ingest']}",
        "STRIKEFLOW_RISK_URL": f"http://127.0.0.1:{layout.ports['risk']}",
        "STRIKEFLOW_EXECUTOR_URL": f"http://127.0.0.1:{layout.ports['executor']}",
        "STRIKEFLOW_LEDGER_URL": f"http://127.0.0.1:{layout.ports['ledger']}",
        "STRIKEFLOW_SUPERVISOR_CONF": str(layout.supervisor_conf),
        "STRIKEFLOW_PROMETHEUS_URL": layout.prometheus_url,
    }
    for key, value in values.items():
        typer.echo(f"export {key}={value}")


if __name__ == "__main__":
    app()
