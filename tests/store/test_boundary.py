"""The storage layer owns SQL (docs/architecture.md): outside ``store/`` no module imports a table or builds a statement.

A module outside ``store/`` may hold a ``Connection`` or an ``Engine`` (to open a transaction and hand it to a
repository) and catch SQLAlchemy's errors; everything else of SQLAlchemy, and every table of ``store._schema``, is
for ``store/`` alone, with no exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

import policykeeper

SRC = Path(policykeeper.__file__).parent
ALLOWED_SQLALCHEMY = {"sqlalchemy": {"Connection", "Engine"}, "sqlalchemy.exc": None, "sqlalchemy.engine": {"make_url"}}
"""What a module outside store/ may import from SQLAlchemy (None: anything from that module)."""

def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(("policykeeper", *path.relative_to(SRC).parts[:-1]))  # the package a relative import starts from
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name == "sqlalchemy" or a.name.startswith("sqlalchemy.") or a.name.startswith("policykeeper.store")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            names = {a.name for a in node.names}
            if module == "sqlalchemy" or module.startswith("sqlalchemy."):
                allowed = ALLOWED_SQLALCHEMY.get(module, set())
                if allowed is not None and names - allowed:
                    found.append(f"line {node.lineno}: from {module} import {', '.join(sorted(names - allowed))}")
            elif module == "policykeeper.store._schema" or (module == "policykeeper.store" and names & _TABLES):
                found.append(f"line {node.lineno}: a table from {module}")
            elif module == "policykeeper" and "store" in names:
                found.append(f"line {node.lineno}: the store package's tables")
    return found


_TABLES = {name for name in dir(__import__("policykeeper.store._schema", fromlist=["x"]))
           if type(getattr(__import__("policykeeper.store._schema", fromlist=["x"]), name)).__name__ == "Table"}


def _modules() -> dict[str, list[str]]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("store/"):
            continue
        offences = _offences(path)
        if offences:
            out[rel] = offences
    return out


def test_no_module_outside_the_store_imports_a_table_or_builds_a_statement() -> None:
    new = _modules()
    assert not new, "SQL outside store/ (move it into a repository under store/):\n" + "\n".join(
        f"{m}: {'; '.join(o)}" for m, o in new.items())


def test_the_check_sees_a_table_import_and_a_statement(tmp_path: Path) -> None:
    bad = SRC / "requests" / "_boundary_probe.py"
    try:
        bad.write_text("from sqlalchemy import select\nfrom ..store._schema import requests\n", encoding="utf-8")
        assert [o.split(": ", 1)[1] for o in _offences(bad)] == [
            "from sqlalchemy import select", "a table from policykeeper.store._schema"]
        bad.write_text("from sqlalchemy import Connection\nfrom sqlalchemy.exc import IntegrityError\n", encoding="utf-8")
        assert _offences(bad) == []
    finally:
        bad.unlink()
