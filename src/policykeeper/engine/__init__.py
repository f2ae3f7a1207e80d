"""The engine: decisions over a compiled pack, and the actions that obey them."""

from ._decide import CompiledPack, compile_pack, decide
from ._engine import Collected, PolicyEngine, Released
from ._facts import FACT_TABLE, FactRow
from ._types import Action, Collect, Decision, Facts, Obligation, Reason, Share, Use

__all__ = [
    "Action",
    "Collect",
    "Collected",
    "CompiledPack",
    "Decision",
    "FACT_TABLE",
    "FactRow",
    "Facts",
    "Obligation",
    "PolicyEngine",
    "Reason",
    "Released",
    "Share",
    "Use",
    "compile_pack",
    "decide",
]
