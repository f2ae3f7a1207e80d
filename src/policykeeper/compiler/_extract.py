"""Section extractors: each reads the sentences, emits pack values with the sentence they come from, or says
``unspecified`` with a review note. Rules only (see _lexicon.py for where each list came from).

``Extractor`` puts together the extractors of each concept (``_extract_identity``, ``_extract_collection``,
``_extract_sharing``, ``_extract_lifecycle``, ``_extract_rights``, ``_extract_notices``) over the shared helpers of
``_sections``; ``_values`` reads periods, ages, dates and lawful bases out of a sentence."""

from __future__ import annotations

from ._extract_collection import CATEGORY_PATTERN, CollectionSections
from ._extract_identity import IdentitySections
from ._extract_lifecycle import LifecycleSections
from ._extract_notices import NoticeSections
from ._extract_rights import RightsSections
from ._extract_sharing import SharingSections
from ._sections import UNSPEC, Item, ref
from ._values import (
    CHANNEL_WORDS,
    LAWFUL_GROUNDS,
    REFUSAL_DISCRETIONARY,
    legal_basis,
    negated,
    parse_age,
    parse_date,
    parse_duration,
)

__all__ = ["CATEGORY_PATTERN", "CHANNEL_WORDS", "LAWFUL_GROUNDS", "REFUSAL_DISCRETIONARY", "UNSPEC", "Extractor", "Item",
           "legal_basis", "negated", "parse_age", "parse_date", "parse_duration", "ref"]


class Extractor(IdentitySections, CollectionSections, SharingSections, LifecycleSections, RightsSections, NoticeSections):
    """Runs over the sentences of one policy and collects pack values and review items."""
