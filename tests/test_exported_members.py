"""The public API is exactly what ``policykeeper`` exports."""

from __future__ import annotations

import policykeeper


def test_all_is_sorted_and_complete() -> None:
    exported = policykeeper.__all__
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(policykeeper, name), name
    public = {n for n in dir(policykeeper) if not n.startswith("_")} - {"pack", "cli"}
    assert public <= set(exported) | {"annotations"}
