"""The policy pack: a machine-readable privacy policy."""

from ._checks import check_pack, promise_references
from ._coverage import Coverage, coverage
from ._data import *  # noqa: F403
from ._diff import BASELINE_TRIGGERS, Change, diff_packs
from ._lifecycle import *  # noqa: F403
from ._lint import Finding, lint_pack
from ._load import bundled_pack_names, bundled_pack_path, load_pack, parse_pack
from ._model import *  # noqa: F403
from ._model import Pack, Promise
from ._people import people_document, people_html, people_markdown
from ._render import build_document, render_pack
from ._rights import *  # noqa: F403
from ._sharing import *  # noqa: F403
from ._types import *  # noqa: F403
from ._types import Rule

__all__ = [
    "BASELINE_TRIGGERS",
    "Change",
    "Coverage",
    "Finding",
    "Pack",
    "Promise",
    "Rule",
    "bundled_pack_names",
    "bundled_pack_path",
    "check_pack",
    "build_document",
    "coverage",
    "diff_packs",
    "lint_pack",
    "load_pack",
    "parse_pack",
    "people_document",
    "people_html",
    "people_markdown",
    "promise_references",
    "render_pack",
]
