"""The public API is exactly what ``policykeeper`` exports."""

from __future__ import annotations

import types

import policykeeper


def test_all_is_sorted_and_complete() -> None:
    exported = policykeeper.__all__
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(policykeeper, name), name
    public = {
        n for n in dir(policykeeper)
        if not n.startswith("_") and not isinstance(getattr(policykeeper, n), types.ModuleType)
    }
    assert public <= set(exported)
