"""Print the mutation score per module from mutmut's results in mutants/ (scripts/mutation runs it).

killed: a test failed (or mutmut's type check caught it, or the tests ran past the timeout); survived: every test
passed; no tests: no selected test reaches the function (counted as survived); not run: not run yet.
The score is killed / (killed + survived + no tests) over what has run; '(of all)' is killed / total, counting a
mutant not run yet as not killed; 'without-mypy' leaves out the mutants mypy caught (killed by tests / mutants the
tests ran on).
Pass --survivors to list the surviving mutants of each module (show one with `mutmut show NAME`).
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


def main() -> int:
    root = Path(__file__).resolve().parents[1] / "mutants"
    if not root.is_dir():
        print("no mutants/ yet: run scripts/mutation first", file=sys.stderr)
        return 1
    show = "--survivors" in sys.argv
    caught_file = root / "mypy-caught.json"  # written by scripts/mutation_typecheck.py
    by_mypy = set(json.loads(caught_file.read_text())) if caught_file.exists() else set()
    print(f"{'module':<10} {'killed':>7} {'(tests':>7} {'mypy)':>6} {'survived':>9} {'no tests':>9} {'not run':>8} "
          f"{'total':>6}  score  (of all)  without-mypy")
    for name, (path, part) in MODULES.items():
        meta = root / (path + ".meta")
        if not meta.exists():
            continue
        codes = {k: v for k, v in json.loads(meta.read_text())["exit_code_by_key"].items() if part in k}
        count: Counter[str] = Counter()
        survivors = []
        for key, code in codes.items():
            if key in by_mypy:
                code = TYPE_CHECK
            if code is None:
                count["not run"] += 1
            elif code in KILLED:
                count["killed"] += 1
                count["by tests"] += 1
            elif code == TYPE_CHECK:
                count["killed"] += 1
                count["by mypy"] += 1
            elif code == 0:
                count["survived"] += 1
                survivors.append(key)
            elif code in (5, 33):
                count["no tests"] += 1
                survivors.append(key)
            else:
                count["other"] += 1
                survivors.append(key)
        ran = count["killed"] + count["survived"] + count["no tests"] + count["other"]
        score = f"{100 * count['killed'] / ran:.1f}%" if ran else "-"
        tested = ran - count["by mypy"]
        plain = f"{100 * count['by tests'] / tested:.1f}%" if tested else "-"
        whole = f"{100 * count['killed'] / len(codes):.1f}%" if codes else "-"
        print(f"{name:<10} {count['killed']:>7} {count['by tests']:>7} {count['by mypy']:>6} {count['survived']:>9} "
              f"{count['no tests']:>9} {count['not run']:>8} {len(codes):>6}  {score:>6}  {whole:>7}  {plain:>6}")
        if show:
            for key in sorted(survivors):
                print("    " + key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
