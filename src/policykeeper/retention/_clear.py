"""The person's own "clear" control: a retention rule ended by the person (e.g. KOSO's clear history)."""

from __future__ import annotations

import datetime as dt

from .._exceptions import BadValueError
from ..engine import PolicyEngine
from ..pack._lifecycle import RetentionRule
from ..store import lifecycle as lifecycle_store
from ._events import _event, _subject


def _clear_rule(eng: PolicyEngine, rule_id: str) -> RetentionRule:
    rules = () if isinstance(eng.pack.retention, str) else eng.pack.retention
    for r in rules:
        if r.id == rule_id:
            if r.start != "user_clear_action":
                raise BadValueError(f"retention rule {rule_id!r} is not ended by the person's own action")
            return r
    clearable = [r.id for r in rules if r.start == "user_clear_action"]
    raise BadValueError(f"no retention rule {rule_id!r} in the {eng.pack.id} pack"
                        + (f"; the person can clear: {', '.join(clearable)}" if clearable else ""))


def _named(eng: PolicyEngine, rule: RetentionRule) -> list[str]:
    if rule.categories == "all":
        return sorted(eng.compiled.categories)
    return list(rule.categories)


def clear_history(eng: PolicyEngine, external_id: str, rule_id: str, *, actor: str = "subject",
                  now: dt.datetime | None = None) -> int:
    """The person's own "clear" control (e.g. KOSO's clear history): delete that rule's records now through the
    deletion service (their keys destroyed, so no backup brings them back readable), in one transaction, and leave
    an event that :func:`history_cleared` checks. Returns how many records were deleted. A record under a legal
    hold is kept where the rule lets the law win; otherwise the clearing fails and changes nothing."""
    from ..deletion import erase_person_in, governing

    now = eng.clock.at(now)
    rule = _clear_rule(eng, rule_id)
    cats = _named(eng, rule)
    with eng.db.begin() as conn:
        sid = _subject(eng, conn, external_id)
        report = erase_person_in(eng, conn, sid, cause="clear_history", actor=actor, reason=f"rule {rule.id}",
                                 now=now, scope=lifecycle_store.by_category(cats),
                                 gov=governing(eng, "clear_history", rule_id=rule.id))
        _event(eng, conn, "history_cleared", sid, None, now, actor, rule.promises,
               {"rule": rule.id, "deleted": report.deleted, "kept": sum(k.records for k in report.kept)})
    return report.deleted


def history_cleared(eng: PolicyEngine, external_id: str, rule_id: str) -> bool:
    """Can it be checked that the history is gone? True when the person cleared it and no record of those
    categories collected before the clearing is left."""
    rule = _clear_rule(eng, rule_id)
    with eng.db.connect() as conn:
        sid = _subject(eng, conn, external_id)
        last = lifecycle_store.last_event_at(conn, "history_cleared", sid)
        if last is None:
            return False
        left = lifecycle_store.active_before(conn, sid, _named(eng, rule), last)
    return left == 0
