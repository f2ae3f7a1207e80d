from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
SHARED = REPO.parent / "shared"

PACK_PROMISE_COUNTS = {"koso": 32, "kalos": 48, "konzen": 39, "kokkok": 68, "kamoer": 78}
"""Promises per policy, from the promise catalogue (PROMISES.md)."""


@pytest.fixture
def minimal_text() -> str:
    return (DATA / "passing_minimal.yaml").read_text(encoding="utf-8")
