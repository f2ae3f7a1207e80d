"""The engine: decisions over a compiled pack, and the actions that obey them."""

from ._decide import CompiledPack, compile_pack, decide
from ._types import Action, Collect, Decision, Facts, Reason, Share, Use

__all__ = ["Action", "Collect", "CompiledPack", "Decision", "Facts", "Reason", "Share", "Use", "compile_pack", "decide"]
