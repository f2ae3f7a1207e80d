"""``mutmut run`` without copying and mutating again what scripts/mutation has just written (its step 1).

mutmut's ``run`` starts by copying ``also_copy`` (the package, packs, docs, tests) over ``mutants/``. That copy
gives the four mutated files their source's modification time again, so mutmut mutates them all once more (minutes
on a busy machine), and it rewrites files that a run already under way may be reading. Here a file is copied only
when its content changed, atomically, and a mutated file only when its source is newer (then mutmut mutates it
again, as it would). Everything else is mutmut's own ``run``: the same mutants, tests, timeouts and verdicts.

    .venv/bin/python scripts/mutation_run.py --max-children 2 NAME...   (the arguments of ``mutmut run``)
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

import mutmut.__main__ as mutmut_main
from mutmut.configuration import config


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.exists() and filecmp.cmp(source, target, shallow=False):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
    os.close(fd)
    shutil.copy2(source, tmp)
    os.replace(tmp, target)


def copy_also_copy_files() -> None:
    mutated = {p.resolve() for p in config().source_paths}
    for path in config().also_copy:
        path = Path(path)
        if not path.exists():
            continue
        for source in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            if "__pycache__" in source.parts:
                continue
            target = Path("mutants") / source
            if source.resolve() in mutated:
                # mutmut mutates it again when the source is newer than the mutated copy (it compares the times)
                if not target.exists() or source.stat().st_mtime > target.stat().st_mtime:
                    shutil.copy2(source, target)
                continue
            _copy_if_changed(source, target)


mutmut_main.copy_also_copy_files = copy_also_copy_files  # type: ignore[attr-defined]

if __name__ == "__main__":
    import sys

    sys.argv = ["mutmut", "run", *sys.argv[1:]]
    mutmut_main.cli()
