"""Which mutants mypy refuses: run mypy (strict, the project's settings) over the mutated files in mutants/ once and
name the mutant each error falls in. Writes mutants/mypy-caught.json ({mutant name: mypy's message}) and prints,
one a line, the names of the modules asked that mypy did not catch and the tests have not killed yet (never run,
survived, or no test reaches them): the ones left for the tests.

mutmut can do this itself (its type_check_command), but it re-parses every mutated file with libcst for each run,
which takes longer than the type check; the standard library's ast does the same mapping in seconds.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "src/policykeeper/engine/_decide.py": "policykeeper.engine._decide",
    "src/policykeeper/engine/_facts.py": "policykeeper.engine._facts",
    "src/policykeeper/engine/_engine.py": "policykeeper.engine._engine",
    "src/policykeeper/deletion/__init__.py": "policykeeper.deletion",
}


def _mutants(path: Path, module: str) -> list[tuple[int, int, str]]:
    """(first line, last line, mutant name) of every mutant function in a mutated file, and of each function's
    unmutated copy (``..__mutmut_orig``)."""
    out: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name:
            out.append((node.lineno, node.end_lineno or node.lineno, f"{module}.{node.name}"))
    return sorted(out)


def main() -> int:
    globs = sys.argv[1:] or ["*"]
    mutants_dir = ROOT / "mutants"
    done = subprocess.run([str(ROOT / ".venv/bin/mypy"), "--output", "json", "--no-warn-unused-ignores", *FILES],
                          cwd=mutants_dir, capture_output=True, text=True)
    errors = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    found: dict[str, set[str]] = {}
    every: list[str] = []
    for rel, module in FILES.items():
        spans = _mutants(mutants_dir / rel, module)
        every += [name for _, _, name in spans if not name.endswith("__mutmut_orig")]
        for e in errors:
            if e["file"] != rel:
                continue
            for first, last, name in spans:
                if first <= e["line"] <= last:
                    found.setdefault(name, set()).add(e["message"])
                    break
            else:
                raise SystemExit(f"mypy error outside any mutant, {rel}:{e['line']}: {e['message']} (fix the code)")
    # an error the unmutated copy has too is an artefact of the copying (an attribute annotated in two copies of
    # __init__), not of the mutation: only an error of the mutant's own counts
    caught: dict[str, str] = {}
    for name, messages in found.items():
        if name.endswith("__mutmut_orig"):
            continue
        own = messages - found.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", set())
        own = {m for m in own if "already defined on line" not in m}
        if own:
            caught[name] = sorted(own)[0]
    (mutants_dir / "mypy-caught.json").write_text(json.dumps(caught, indent=0, ensure_ascii=False))
    # what the tests already killed stays killed (mutmut resets the result of a function whose code changed)
    killed: set[str] = set()
    for rel in FILES:
        meta = mutants_dir / (rel + ".meta")
        if meta.exists():
            killed |= {k for k, code in json.loads(meta.read_text())["exit_code_by_key"].items()
                       if code is not None and code not in (0, 5, 33)}
    for name in every:
        if name not in caught and name not in killed and any(fnmatch.fnmatchcase(name, g) for g in globs):
            print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
