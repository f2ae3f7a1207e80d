"""Every command of the command line turns a library error into its clean message, in one place (cli._translating)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from policykeeper import pack as pack_module
from policykeeper._exceptions import ConfigError
from policykeeper.cli import app

runner = CliRunner()


def _commands(group: typer.Typer, path: str = "") -> list[tuple[str, object]]:
    found = [(f"{path} {c.name}".strip(), c.callback) for c in group.registered_commands]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        found += _commands(sub.typer_instance, f"{path} {sub.name}".strip())
    return found


def test_every_command_goes_through_the_error_translation() -> None:
    commands = _commands(app)
    assert len(commands) > 40
    bare = [name for name, callback in commands if not hasattr(callback, "__wrapped__")]
    assert bare == []


def test_a_library_error_anywhere_in_a_command_is_a_clean_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_pack: object) -> object:
        raise ConfigError("the coverage could not be computed")

    monkeypatch.setattr(pack_module, "coverage", broken)
    result = runner.invoke(app, ["pack", "check", "kokkok"])
    assert result.exit_code == 1
    assert "error [config] the coverage could not be computed" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
