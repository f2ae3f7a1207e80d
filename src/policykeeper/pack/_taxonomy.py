"""The Fides default taxonomy (from ``fideslang``), loaded once."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["default_data_categories", "default_data_uses"]


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[frozenset[str], frozenset[str]]:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    cats = frozenset(c.fides_key for c in DEFAULT_TAXONOMY.data_category)
    uses = frozenset(u.fides_key for u in DEFAULT_TAXONOMY.data_use)
    return cats, uses


def default_data_categories() -> frozenset[str]:
    """Every data category key of the Fides default taxonomy."""
    return _taxonomy()[0]


def default_data_uses() -> frozenset[str]:
    """Every data use key of the Fides default taxonomy."""
    return _taxonomy()[1]
