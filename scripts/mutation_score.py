"""Print the mutation score per module from mutmut's results in mutants/ (scripts/mutation runs it).

Each mutant of a module is one of: caught by mypy (scripts/mutation_typecheck.py; it could never be committed), killed
by the tests (a test failed, or the tests ran past the timeout; in mutmut's run, or, for a survivor of that run, when
scripts/mutation_recheck.py ran it again against the tests written for it: column "rechecked"), survived (every test
passed), no tests (no selected test reaches the function: counted as survived), or not run (the tests have not been
run on it yet).

score:        killed (by mypy or the tests) / every mutant of the module. A mutant not run counts as not killed, so
              a module whose run stopped early never shows more than what was measured.
tests' score: killed by the tests / mutants the tests ran on (mypy's left out), the tests' own strength.
Pass --survivors to list the surviving (and no-tests) mutants of each module (show one with `mutmut show NAME`),
--not-run to list those not run yet.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

MODULES = {
    "decide": ("src/policykeeper/engine/_decide.py", ""),
    "facts": ("src/policykeeper/engine/_facts.py", ""),
    "facts_of": ("src/policykeeper/engine/_engine.py", "xǁPolicyEngineǁ_facts_of__mutmut_"),
    "deletion": ("src/policykeeper/deletion/__init__.py", ""),
}
KILLED = {1, 3, 36, 24, -24, 152, 255}  # a test failed, or the tests ran past the timeout
TYPE_CHECK = 37  # mypy (strict) refused the mutant (mutmut's code for it; ours are in mutants/mypy-caught.json)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def main() -> int:
    root = Path(__file__).resolve().parents[1] / "mutants"
    if not root.is_dir():
        print("no mutants/ yet: run scripts/mutation first", file=sys.stderr)
        return 1
    show = "--survivors" in sys.argv
    show_not_run = "--not-run" in sys.argv
    caught_file = root / "mypy-caught.json"  # written by scripts/mutation_typecheck.py
    by_mypy = set(json.loads(caught_file.read_text())) if caught_file.exists() else set()
    recheck_file = root / "recheck.json"  # written by scripts/mutation_recheck.py
    rechecked = set(json.loads(recheck_file.read_text())) if recheck_file.exists() else set()
    print(f"{'module':<10} {'total':>6} {'mypy':>6} {'tests ran':>9} {'killed':>7} {'(rechecked)':>11} {'survived':>9} "
          f"{'no tests':>9} {'not run':>8}   {'score':>6}  " + "tests' score")
    for name, (path, part) in MODULES.items():
        meta = root / (path + ".meta")
        if not meta.exists():
            continue
        codes = {k: v for k, v in json.loads(meta.read_text())["exit_code_by_key"].items() if part in k}
        count: Counter[str] = Counter()
        survivors: list[str] = []
        not_run: list[str] = []
        for key, code in codes.items():
            if key in by_mypy or code == TYPE_CHECK:
                count["mypy"] += 1
            elif code is None:
                count["not run"] += 1
                not_run.append(key)
            elif code in KILLED:
                count["killed"] += 1
            elif code in (0, 5, 33) and key in rechecked:
                count["killed"] += 1
                count["rechecked"] += 1
            elif code == 0:
                count["survived"] += 1
                survivors.append(key)
            elif code in (5, 33):
                count["no tests"] += 1
                survivors.append(key)
            else:  # an exit code mutmut does not count as killed: not killed
                count["other"] += 1
                survivors.append(f"{key} (exit code {code})")
        ran = count["killed"] + count["survived"] + count["no tests"] + count["other"]
        note = f"   ({count['not run']} not run: the score counts them as not killed)" if count["not run"] else ""
        print(f"{name:<10} {len(codes):>6} {count['mypy']:>6} {ran:>9} {count['killed']:>7} {count['rechecked']:>11} "
              f"{count['survived']:>9} "
              f"{count['no tests'] + count['other']:>9} {count['not run']:>8}   "
              f"{_percent(count['mypy'] + count['killed'], len(codes)):>6}  {_percent(count['killed'], ran):>12}{note}")
        if show:
            for key in sorted(survivors):
                print("    survived: " + key)
        if show_not_run:
            for key in sorted(not_run):
                print("    not run: " + key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
