"""Generate ``.env.example`` and ``docs/configuration.md`` from the settings classes.

    python -m deploy.gen_env_example              # print .env.example
    python -m deploy.gen_env_example --markdown   # print docs/configuration.md
    python -m deploy.gen_env_example --write      # rewrite both files

The shared settings (read under the same name by every service) come first, then each service's
own settings under its prefix. Secret values are shown as placeholders.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo

from libs.common.settings import ServiceSettings
from services.executor.settings import ExecutorSettings
from services.ingest.settings import IngestSettings
from services.ledger.settings import LedgerSettings
from services.monitor.settings import MonitorSettings
from services.risk.settings import RiskSettings

ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = ROOT / ".env.example"
CONFIGURATION_MD = ROOT / "docs" / "configuration.md"
PLACEHOLDER = "change-me"

SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "ingest": IngestSettings,
    "risk": RiskSettings,
    "executor": ExecutorSettings,
    "ledger": LedgerSettings,
    "monitor": MonitorSettings,
}


@dataclass(frozen=True)
class Setting:
    """One environment variable: where it applies, its default and what it means."""

    scope: str
    names: tuple[str, ...]
    default: str
    description: str
    secret: bool
    required: bool

    @property
    def name(self) -> str:
        """The name shown in the generated files; the others are accepted too."""
        return self.names[0]

    def comment(self) -> str:
        """One line: description, then required/secret/alias notes."""
        notes = [n for n, on in (("required", self.required), ("secret", self.secret)) if on]
        notes += [f"also read as {alias}" for alias in self.names[1:]]
        return self.description + (f" ({'; '.join(notes)})" if notes else "")


def env_names(settings: type[ServiceSettings], field_name: str) -> tuple[str, ...]:
    """Environment variable names a field of ``settings`` is read from."""
    alias = settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(c for c in alias.choices if isinstance(c, str))
    if isinstance(alias, str):
        return (alias,)
    prefix = str(settings.model_config.get("env_prefix", ""))
    return (f"{prefix}{field_name}".upper(),)


def all_env_names(settings: type[ServiceSettings]) -> set[str]:
    """Every environment variable name ``settings`` reads."""
    return {name for field in settings.model_fields for name in env_names(settings, field)}


def mask_url(value: str) -> str:
    """Replace the password of a URL (if any) with the placeholder."""
    parts = urlsplit(value)
    if not parts.password:
        return value
    netloc = f"{parts.username}:{PLACEHOLDER}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _render_default(field: FieldInfo) -> str:
    if field.is_required():
        return PLACEHOLDER
    value: object = field.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        return mask_url(value.get_secret_value())
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal | float | int | str):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if value is None:
        return ""
    raise TypeError(f"no rendering for default {value!r}")


def _setting(scope: str, settings: type[ServiceSettings], field_name: str) -> Setting:
    field = settings.model_fields[field_name]
    return Setting(
        scope=scope,
        names=env_names(settings, field_name),
        default=_render_default(field),
        description=field.description or field_name.replace("_", " "),
        secret=field.annotation is SecretStr,
        required=field.is_required(),
    )


def collect() -> list[Setting]:
    """Shared settings first, then each service's own, in declaration order."""
    base = ServiceSettings.model_fields
    shared = [name for name, field in base.items() if field.validation_alias is not None]
    out = [_setting("shared", ServiceSettings, name) for name in shared]
    for service, settings in SERVICE_SETTINGS.items():
        out += [_setting(service, settings, n) for n in settings.model_fields if n not in shared]
    return out


def _env_value(value: str) -> str:
    if any(c in value for c in " #\"'$\\"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def render_env(settings: list[Setting]) -> str:
    """The contents of ``.env.example``."""
    lines = [
        "# strikeflow settings with their defaults. Generated by",
        "# `python -m deploy.gen_env_example --write` from the settings classes: do not edit.",
        "# Copy to .env (read from the working directory) or export them; environment variables",
        "# win over .env. Replace every 'change-me' before use.",
    ]
    scope = ""
    for item in settings:
        if item.scope != scope:
            scope = item.scope
            title = "every service" if scope == "shared" else f"{scope} service"
            lines += ["", f"# --- {scope}: {title} ---"]
        lines += [f"# {item.comment()}", f"{item.name}={_env_value(item.default)}"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(settings: list[Setting]) -> str:
    """The contents of ``docs/configuration.md``."""
    lines = [
        "# Configuration",
        "",
        "Every service reads its settings from environment variables, then from a `.env` file",
        "in its working directory (environment variables win). Shared settings have the same",
        "name in every service; the others carry the service's prefix (`INGEST_`, `RISK_`,",
        "`EXECUTOR_`, `LEDGER_`, `MONITOR_`). [`.env.example`](../.env.example) lists the same",
        "settings with their defaults.",
        "",
        "This page is generated by `python -m deploy.gen_env_example --write`; a unit test fails",
        "when it no longer matches the settings classes.",
        "",
        "| Variable | Scope | Default | Description |",
        "| --- | --- | --- | --- |",
    ]
    for item in settings:
        default = f"`{item.default}`" if item.default else "(empty)"
        if item.required:
            default = "(required)"
        lines.append(
            f"| `{item.name}` | {item.scope} | {_cell(default)} | {_cell(item.comment())} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print or write the generated files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown", action="store_true", help="print the Markdown page")
    parser.add_argument("--write", action="store_true", help="rewrite both files")
    args = parser.parse_args(argv)
    settings = collect()
    if args.write:
        ENV_EXAMPLE.write_text(render_env(settings))
        CONFIGURATION_MD.parent.mkdir(parents=True, exist_ok=True)
        CONFIGURATION_MD.write_text(render_markdown(settings))
        return
    sys.stdout.write(render_markdown(settings) if args.markdown else render_env(settings))


if __name__ == "__main__":
    main()
