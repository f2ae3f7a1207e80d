"""Docs are part of the product: every command and every error code is documented."""

from __future__ import annotations

import re
import typing

import typer
from typer.core import TyperGroup

from policykeeper import _exceptions
from policykeeper.cli import app

from .conftest import REPO


def _commands() -> list[str]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    names: list[str] = []
    for name, cmd in root.commands.items():
        if isinstance(cmd, TyperGroup):
            names += [f"{name} {sub}" for sub in cmd.commands]
        else:
            names.append(name)
    return sorted(names)


def test_every_command_is_documented_and_has_help() -> None:
    doc = (REPO / "docs" / "cli.md").read_text()
    root = typer.main.get_command(app)
    for name in _commands():
        assert f"## policykeeper {name}" in doc, name
        group, _, sub = name.partition(" ")
        cmd = root.commands[group]  # type: ignore[attr-defined]
        if sub:
            cmd = cmd.commands[sub]
        assert cmd.help, name


def test_every_error_code_is_documented() -> None:
    doc = (REPO / "docs" / "errors.md").read_text()
    codes = set(typing.get_args(_exceptions.ErrorCode))
    documented = set(re.findall(r"^## `([a-z_]+)`$", doc, re.MULTILINE))
    assert documented == codes


def test_readme_quickstart_has_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    assert commands[1].strip() == "bash scripts/test"
    assert "bash scripts/test" in (REPO / ".ci" / "run").read_text()


def test_readme_library_example_runs() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
