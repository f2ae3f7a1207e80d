"""Deadlines: the pack's deadline rule for a kind of request, when it falls due, and the words that describe it.

A deadline counts from receipt or from verification, in calendar or business days, as the pack says. Where the pack
defers to "applicable law", the operator states the number (``HOME/requests.yaml``); otherwise the deadline is kept as
words and not tracked as a date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

from ..clock import after
from ..pack import Pack
from ..pack._rights import DeadlineRule
from ..pack._types import FixedDuration


def load_deadlines(path: Path) -> dict[str, FixedDuration]:
    """``deadlines: {per_applicable_law: {value: 30, unit: calendar_days}}`` from ``path`` (HOME/requests.yaml): what
    the applicable law requires where the pack defers to it. A missing file means none."""
    from .._settings import durations, read_settings_file

    return durations(path, "deadlines", read_settings_file(path, ("deadlines",), "request settings")["deadlines"])


def deadline_words(duration: object) -> str:
    if isinstance(duration, FixedDuration):
        return f"{duration.value} {duration.unit}" + (f" ({duration.qualifier})" if duration.qualifier else "")
    return str(duration)


def deadline_rule(pack: Pack, kind: str) -> DeadlineRule | None:
    """The pack's deadline rule for this kind of request (a right, or ``general_question`` ...), if any."""
    handling = pack.requests
    if isinstance(handling, str) or isinstance(handling.deadlines, str):
        return None
    return next((d for d in handling.deadlines if d.applies_to == kind), None)


def due(pack: Pack, configured: Mapping[str, FixedDuration], kind: str, start: dt.datetime, stage: str
        ) -> tuple[dt.datetime | None, str]:
    """When a request of ``kind`` falls due, counted from ``start`` (the moment of ``stage``: ``receipt`` or
    ``verification``), and the deadline in words. No date where the pack counts from the other stage or gives no
    number (and the operator configured none for the law)."""
    rule = deadline_rule(pack, kind)
    if rule is None:
        return None, "unspecified"
    duration = rule.duration
    words = deadline_words(duration)
    if not isinstance(duration, FixedDuration):
        law = configured.get(rule.id) or configured.get(str(duration))
        if law is not None:
            duration, words = law, f"{deadline_words(law)} (law, configured)"
    clock = rule.clock_start if rule.clock_start != "unspecified" else "receipt"
    if not isinstance(duration, FixedDuration) or clock != stage:
        return None, words
    return after(start, duration), words


def fit_deadline(words: str) -> str:
    """Deadline words fit their column (40 characters): qualifiers in brackets go first, then the tail."""
    if len(words) > 40:
        words = re.sub(r" \([^)]*\)", "", words)
    return words if len(words) <= 40 else words[:39] + "…"
