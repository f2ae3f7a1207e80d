"""The engine: decisions over a compiled pack, and the actions that obey them."""

from ._common import Collected, Released
from ._decide import CompiledPack, compile_pack, decide
from ._engine import PolicyEngine
from ._facts import FACT_TABLE, FactRow
from ._types import Action, Collect, Decision, Facts, Obligation, Reason, Share, Use
from ._values import GENDERS, DetailKind, check_detail, detail_kind

__all__ = [
    "Action",
    "Collect",
    "Collected",
    "CompiledPack",
    "Decision",
    "DetailKind",
    "FACT_TABLE",
    "FactRow",
    "GENDERS",
    "Facts",
    "Obligation",
    "PolicyEngine",
    "Reason",
    "Released",
    "Share",
    "Use",
    "check_detail",
    "compile_pack",
    "decide",
    "detail_kind",
]
