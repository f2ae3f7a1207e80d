"""The engine: decisions over a compiled pack, and the actions that obey them."""

from ._decide import CompiledPack, compile_pack, decide
from ._engine import Collected, PolicyEngine
from ._types import Action, Collect, Decision, Facts, Reason, Share, Use

__all__ = [
    "Action",
    "Collect",
    "Collected",
    "CompiledPack",
    "PolicyEngine",
    "Decision",
    "Facts",
    "Reason",
    "Share",
    "Use",
    "compile_pack",
    "decide",
]
