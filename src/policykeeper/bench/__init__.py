"""Benchmarks behind ``policykeeper bench NAME``: figures side by side in one run, as ratios, saved as JSON.

Each benchmark returns one flat-ish JSON object; the command prints it as the last line of its output and saves it
under ``bench/results/``. Speed is claimed only from these figures, never from timed tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._exceptions import BadValueError

__all__ = ["BENCHMARKS", "machine", "run", "save"]


def _core(quick: bool, database_url: str | None) -> dict[str, Any]:
    from ._core import run_core

    return run_core(quick=quick, database_url=database_url)


def _requests(quick: bool, database_url: str | None) -> dict[str, Any]:
    from ._requests import run_requests

    return run_requests(quick=quick, database_url=database_url)


def _retention(quick: bool, database_url: str | None) -> dict[str, Any]:
    from ._retention import run_retention

    return run_retention(quick=quick, database_url=database_url)


def _draft(quick: bool, database_url: str | None) -> dict[str, Any]:
    from ._draft import run_draft

    return run_draft(quick=quick, database_url=database_url)


def _api(quick: bool, database_url: str | None) -> dict[str, Any]:
    from ._api import run_api

    return run_api(quick=quick, database_url=database_url)


BENCHMARKS: dict[str, Callable[[bool, str | None], dict[str, Any]]] = {
    "core": _core, "requests": _requests, "retention": _retention, "draft": _draft, "api": _api}
"""Benchmark name -> runner(quick, database_url)."""


def machine() -> dict[str, Any]:
    """The machine the figures came from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model or platform.processor(), "memory_mib": mem,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "system": platform.platform()}


def run(name: str, *, quick: bool = False, database_url: str | None = None,
        ledger_entries: int | None = None) -> dict[str, Any]:
    """Run one benchmark and return its figures (with the machine and the time). ``ledger_entries`` (core only):
    verify a ledger of that many entries instead of a million; the figure is still given per million."""
    runner = BENCHMARKS.get(name)
    if runner is None:
        raise BadValueError(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
    if ledger_entries is None:
        figures = runner(quick, database_url)
    elif name != "core":
        raise BadValueError("--ledger-entries is for bench core only")
    elif not 10_000 <= ledger_entries <= 10_000_000:
        raise BadValueError(f"--ledger-entries must be between 10,000 and 10,000,000, not {ledger_entries}")
    else:
        from ._core import run_core

        figures = run_core(quick=quick, database_url=database_url, ledger_entries=ledger_entries)
    return {"bench": name, "quick": quick, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(), **figures}


def save(figures: dict[str, Any], directory: Path) -> Path:
    """Write the figures to DIRECTORY/NAME-TIMESTAMP.json and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = str(figures["at"]).replace(":", "").replace("+0000", "Z")
    path = directory / f"{figures['bench']}-{stamp}{'-quick' if figures.get('quick') else ''}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path
