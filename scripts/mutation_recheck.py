"""Run surviving mutants again against named tests only (the tests written to kill them), and record the verdicts.

    .venv/bin/python scripts/mutation_recheck.py TESTS... -- NAME...     (names may be globs; TESTS are pytest args)

mutmut runs a survivor again (``mutmut run NAME``) against every test that reaches its function, slowest last, which
for a mutant of the decision point is minutes each. A mutant is killed when any test fails on it, so running only the
new tests that target it gives the same verdict for a kill: this does exactly what mutmut's runner does (the mutated
tree in mutants/, the mutant chosen by MUTANT_UNDER_TEST, pytest with -x in a process forked from one that has
already imported everything), with the given tests. A mutant these tests do not kill stays a survivor (it is not
recorded). Kills are written to mutants/recheck.json ({name: the tests}); scripts/mutation_score.py counts them as
killed by the tests, and a later ``mutmut run`` of the same mutants supersedes them.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"


def _survivors() -> list[str]:
    out: list[str] = []
    for meta in MUTANTS.rglob("*.py.meta"):
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code in (0, 5, 33):
                out.append(key)
    return sorted(out)


def _record(name: str, tests: list[str]) -> None:
    """Add a kill to mutants/recheck.json (under a lock: several rechecks may run at once)."""
    import fcntl

    with open(MUTANTS / "recheck.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = MUTANTS / "recheck.json"
        killed: dict[str, list[str]] = json.loads(record.read_text()) if record.exists() else {}
        killed[name] = tests
        record.write_text(json.dumps(killed, indent=0, sort_keys=True))


def main() -> int:
    args = sys.argv[1:]
    if "--" not in args:
        raise SystemExit(__doc__)
    cut = args.index("--")
    tests, globs = args[:cut], args[cut + 1:]
    record = MUTANTS / "recheck.json"
    done = set(json.loads(record.read_text())) if record.exists() else set()
    names = [n for n in _survivors() if n not in done and any(fnmatch.fnmatchcase(n, g) for g in globs)]
    os.chdir(MUTANTS)
    sys.path.insert(0, str(MUTANTS / "src"))
    os.environ.setdefault("POLICYKEEPER_TEST_PG_URL", "unused")
    import pytest

    base = ["-p", "no:cacheprovider", "-q", "-x", "-k", "not postgresql", "--rootdir=.", *tests]
    os.environ["MUTANT_UNDER_TEST"] = ""
    if pytest.main([*base, "--collect-only", "-qq"]) != 0:  # warm up: import everything once
        raise SystemExit("the tests do not collect")
    os.environ["MUTANT_UNDER_TEST"] = "none"
    with open(os.devnull, "w") as quiet:
        pid = os.fork()
        if pid == 0:
            os.dup2(quiet.fileno(), 1)
            os.dup2(quiet.fileno(), 2)
            os._exit(int(pytest.main(base)))
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("the tests fail on the unmutated code")
        for name in names:
            pid = os.fork()
            if pid == 0:
                os.environ["MUTANT_UNDER_TEST"] = name
                os.dup2(quiet.fileno(), 1)
                os.dup2(quiet.fileno(), 2)
                os._exit(int(pytest.main(base)))
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            verdict = "killed" if code == 1 else ("survived" if code == 0 else f"exit {code}")
            print(f"{verdict:>9}  {name}", flush=True)
            if code == 1:
                _record(name, tests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
