"""Starting the CLI stays cheap: the commands import the heavy parts (the web stack, the database layer, the pack
model, the compiler, the job queue) when they run, so ``policykeeper --help`` pays for none of them.

Pinned by what is imported, not by timing: a timed test would be flaky on a loaded machine."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("fastapi", "starlette", "uvicorn", "rdflib", "procrastinate", "sqlalchemy", "jinja2", "cryptography",
         "policykeeper.pack", "policykeeper.engine", "policykeeper.compiler", "policykeeper.web", "policykeeper.store")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert _heavy(_imported_after("import policykeeper.cli")) == []


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys\nfrom policykeeper.cli import app\nsys.argv = ['policykeeper', '--help']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass")
    assert _heavy(_imported_after(code)) == []


def test_the_package_exports_the_pack_api_on_first_use() -> None:
    modules = _imported_after("import policykeeper")
    assert "policykeeper.pack" not in modules
    loaded = _imported_after("import policykeeper\npolicykeeper.load_pack('kokkok')")
    assert "policykeeper.pack" in loaded
