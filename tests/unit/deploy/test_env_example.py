"""`.env.example` and `docs/configuration.md` stay in step with the settings classes."""

from __future__ import annotations

import pytest
from dotenv import dotenv_values
from pydantic import ValidationError

from deploy.gen_env_example import (
    CONFIGURATION_MD,
    ENV_EXAMPLE,
    PLACEHOLDER,
    SERVICE_SETTINGS,
    all_env_names,
    collect,
    env_names,
    mask_url,
    render_env,
    render_markdown,
)
from libs.common.settings import ServiceSettings

REGENERATE = "out of date: run `python -m deploy.gen_env_example --write`"


def test_env_example_matches_generator_output():
    assert ENV_EXAMPLE.read_text() == render_env(collect()), REGENERATE


def test_configuration_md_matches_generator_output():
    assert CONFIGURATION_MD.read_text() == render_markdown(collect()), REGENERATE


def test_env_example_lists_every_setting_of_every_service():
    listed = set(dotenv_values(ENV_EXAMPLE))
    for settings in (ServiceSettings, *SERVICE_SETTINGS.values()):
        for field in settings.model_fields:
            if settings is ServiceSettings and field in ("http_host", "http_port"):
                continue  # read only under each service's prefix
            assert set(env_names(settings, field)) & listed, (
                f"{settings.__name__}.{field} missing from .env.example"
            )


def test_configuration_md_lists_every_variable_of_env_example():
    text = CONFIGURATION_MD.read_text()
    for name in dotenv_values(ENV_EXAMPLE):
        assert f"| `{name}` |" in text


def test_env_example_when_setting_is_secret_and_required_shows_placeholder():
    values = dotenv_values(ENV_EXAMPLE)
    assert values["INGEST_WEBHOOK_SECRET"] == PLACEHOLDER


def test_mask_url_when_password_present_replaces_it():
    assert mask_url("postgresql://u:hunter2@db:5432/x") == f"postgresql://u:{PLACEHOLDER}@db:5432/x"
    assert mask_url("postgresql://u@db/x") == "postgresql://u@db/x"


@pytest.mark.parametrize("name", sorted(SERVICE_SETTINGS))
def test_env_example_when_loaded_gives_the_defaults(monkeypatch, name):
    settings = SERVICE_SETTINGS[name]
    for other in SERVICE_SETTINGS.values():
        for var in all_env_names(other):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WEBHOOK_SECRET", "a-real-secret-for-tests")
    monkeypatch.setenv("OPERATOR_TOKEN", "a-real-operator-token-for-tests")
    loaded = settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    set_here = {"WEBHOOK_SECRET", "OPERATOR_TOKEN"}
    for field, info in settings.model_fields.items():
        if info.is_required() or set(env_names(settings, field)) & set_here:
            continue
        assert getattr(loaded, field) == info.get_default(call_default_factory=True), field


def test_env_example_when_secret_left_as_placeholder_is_rejected(monkeypatch):
    for var in all_env_names(SERVICE_SETTINGS["ingest"]):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValidationError, match="webhook secret"):
        SERVICE_SETTINGS["ingest"](_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
