"""policykeeper: a privacy policy as a machine-readable pack, enforced, with evidence."""

import typing as _typing

from . import _exceptions
from ._exceptions import *  # noqa: F403 - every error, as _exceptions.__all__ lists them

if _typing.TYPE_CHECKING:
    from .pack import (
        Change,
        Coverage,
        Finding,
        Pack,
        Promise,
        bundled_pack_names,
        bundled_pack_path,
        coverage,
        diff_packs,
        lint_pack,
        load_pack,
        parse_pack,
        render_pack,
    )

_FROM_PACK = frozenset({"Change", "Coverage", "Finding", "Pack", "Promise", "bundled_pack_names", "bundled_pack_path",
                        "coverage", "diff_packs", "lint_pack", "load_pack", "parse_pack", "render_pack"})
"""Exported from :mod:`policykeeper.pack`, imported on first use: building the pack model takes a few tenths of a
second, which a command that never reads a pack (``policykeeper --help``) should not pay."""


def __getattr__(name: str) -> object:
    if name in _FROM_PACK:
        from . import pack

        value = getattr(pack, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FROM_PACK)


__version__ = "0.1.0"

__all__ = [
    "Change",
    "Coverage",
    "Finding",
    "Pack",
    "Promise",
    "__version__",
    "bundled_pack_names",
    "bundled_pack_path",
    "coverage",
    "diff_packs",
    "lint_pack",
    "load_pack",
    "parse_pack",
    "render_pack",
]
__all__ += _exceptions.__all__
__all__.sort()
