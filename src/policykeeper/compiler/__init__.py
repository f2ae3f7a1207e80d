"""The policy compiler: draft a pack from a privacy policy's text, every value quoted, the rest left for review."""

from ._draft import Draft, DraftPromise, draft_pack, pack_id_for
from ._extract import Item
from ._text import Source, normalise, policy_from_text, read_policy, segment

__all__ = ["Draft", "DraftPromise", "Item", "Source", "draft_pack", "normalise", "pack_id_for",
           "policy_from_text", "read_policy", "segment"]
