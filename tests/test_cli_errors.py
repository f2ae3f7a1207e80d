"""Every command of the command line turns a library error into its clean message, in one place (cli._translating)."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(("args", "said"), [
    (["retention", "cease-service", "--at", "soon", "--reference", "R-1", "--announcement", "closing"], "--at"),
    (["organisation", "training", "--held-on", "last week", "--topic", "privacy", "--attendance", "3"], "--held-on"),
    (["organisation", "department", "--name", "Privacy", "--contact", "privacy@example.com", "--role", "DPO"],
     "--role"),
    (["records", "consent"], "name one person, or give --all"),
    (["request", "submit", "p-1", "access", "--email", "p@example.com", "--language", "xx"], "--language"),
])
def test_a_bad_argument_is_reported_before_the_engine_is_opened(args: list[str], said: str, tmp_path: Path,
                                                                db_url: str) -> None:
    """These commands check their arguments before opening the engine (``@uses(Settings.load)``, then
    ``_engine_for``): with a home that has no keystore yet, the error is the argument's, and the database is not
    touched (opening the engine first would create its tables, then fail on the missing keystore)."""
    from sqlalchemy import create_engine, inspect

    result = runner.invoke(app, [*args, "--home", str(tmp_path / "home"), "--database-url", db_url])
    assert result.exit_code == 1
    assert said in result.stderr
    assert "keystore" not in result.stderr
    engine = create_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
