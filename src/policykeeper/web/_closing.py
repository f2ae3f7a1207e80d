"""What happens to a person's data when they close their account, as dates, and the email that tells them.

The schedule is read from the pack's retention rules (the same plans the retention sweep follows, with the defaults
for words the pack leaves open): details a rule starting at ``account_cancelled`` governs go on a date (the sweep does
it on its next run from that date); details under a rule that ends with the purposes stay until those purposes end;
records the pack keeps (``keep_as_record``) stay for their period or as long as the law requires. The email goes to the
address held for the person, in the language of the page they closed the account from, through the outbox (one
message, queued in its own transaction and delivered at once; the worker retries a failure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..engine import PolicyEngine
from ..notify import RoutedTransport, deliver, enqueue_to_person
from ..pack._types import FixedDuration
from ..retention import _plans
from ._i18n import gettext_for

__all__ = ["ClosingStep", "closing_schedule", "closing_text", "day_in", "send_closing_notice"]


@dataclass(frozen=True)
class ClosingStep:
    """Some of the person's details and what happens to them: ``goes`` (deleted or anonymised on ``on``), ``purposes``
    (kept until the purposes they serve end), or ``kept`` (a record kept for ``period``, or as the law requires)."""

    what: str
    categories: tuple[str, ...]
    action: str | None = None
    on: dt.date | None = None
    period: FixedDuration | None = None


def _add(start: dt.datetime, period: FixedDuration) -> dt.date:
    day = start.date()
    n = period.value
    if period.unit == "hours":
        return (start + dt.timedelta(hours=n)).date()
    if period.unit == "business_days":
        while n > 0:
            day += dt.timedelta(days=1)
            n -= day.weekday() < 5
        return day
    if period.unit in ("months", "years"):
        months = day.month - 1 + (n if period.unit == "months" else 12 * n)
        year, month = day.year + months // 12, months % 12 + 1
        for last in (31, 30, 29, 28):
            try:
                return dt.date(year, month, min(day.day, last))
            except ValueError:
                continue
    return day + dt.timedelta(days=n)


def closing_schedule(eng: PolicyEngine, categories: list[str], now: dt.datetime) -> list[ClosingStep]:
    """For the categories held for a person, what closing the account at ``now`` leads to, grouped."""
    plans = _plans(eng, {}, {})
    steps: dict[tuple[Any, ...], list[str]] = {}
    for cat in sorted(set(categories)):
        def covers(p: Any, c: str = cat) -> bool:
            return (c in p.categories) if p.categories is not None else c not in p.excluded
        rule = next((p for p in plans if p.start == "account_cancelled" and covers(p)), None)
        if rule is not None and rule.action is not None:
            key: tuple[Any, ...] = ("goes", rule.action, _add(now, rule.period) if rule.period else None, None)
        elif (kept := next((p for p in plans if p.action is None and covers(p)), None)) is not None:
            key = ("kept", None, None, kept.period)
        elif (ends := next((p for p in plans if p.start == "purpose_end" and covers(p)), None)) is not None:
            key = ("purposes", ends.action, None, None)
        else:
            key = ("kept", None, None, None)
        steps.setdefault(key, []).append(cat)
    return [ClosingStep(what, tuple(cats), action, on, period) for (what, action, on, period), cats in steps.items()]


def _duration(_: Any, period: FixedDuration) -> str:
    words = {"calendar_days": _("%(n)s days"), "business_days": _("%(n)s working days"), "hours": _("%(n)s hours"),
             "months": _("%(n)s months"), "years": _("%(n)s years")}
    return str(words.get(period.unit, _("%(n)s days"))).replace("%(n)s", str(period.value))


def day_in(language: str, day: dt.date) -> str:
    """A day in words, the way the language writes it (``29 November 2026``, ``2026年11月29日``)."""
    from ..i18n import day_in as words

    return words(language, day)


def closing_text(eng: PolicyEngine, steps: list[ClosingStep], language: str, now: dt.datetime) -> tuple[str, str]:
    """The subject and body of the email, in ``language``; category names stay in the pack's words."""
    _ = gettext_for(language)
    names = {c.id: c.name for c in eng.pack.data_categories}
    lines = [_("Your account was closed on %(day)s. This is what happens to the details we held for it:",
               day=day_in(language, now.date())), ""]
    for step in steps:
        listed = ", ".join(names.get(c, c) for c in step.categories)
        if step.what == "goes" and step.on is not None:
            text = (_("Anonymised on or soon after %(day)s: %(details)s.", day=day_in(language, step.on), details=listed)
                    if step.action == "anonymize" else
                    _("Deleted on or soon after %(day)s: %(details)s.", day=day_in(language, step.on), details=listed))
        elif step.what == "goes":
            text = _("Deleted when the policy's period after closing ends: %(details)s.", details=listed)
        elif step.what == "purposes":
            text = _("Kept only until the purposes they were collected for end, then deleted or anonymised: "
                     "%(details)s.", details=listed)
        elif step.period is not None:
            text = _("Kept as a record for %(period)s, then deleted: %(details)s.", period=_duration(_, step.period),
                     details=listed)
        else:
            text = _("Kept as a record for as long as the law requires, then deleted: %(details)s.", details=listed)
        lines.append("- " + text)
    lines += ["", _("You can no longer sign in to the privacy center with this account. If you did not close it, "
                    "contact us at once.")]
    return _("Your account is closed: what happens to your data"), "\n".join(lines) + "\n"


def send_closing_notice(eng: PolicyEngine, mailer: Any, subject_id: str, categories: list[str], language: str,
                        now: dt.datetime | None = None) -> bool:
    """Queue and deliver the closing email to the address held for the person; False when none is held."""
    now = eng.clock.at(now)
    subject, body = closing_text(eng, closing_schedule(eng, categories, now), language, now)
    with eng.db.begin() as conn:
        to = eng.email_of_subject(conn, subject_id)
        if not to:
            return False
        mid = enqueue_to_person(conn, eng.keys, kind="account_closed", channel="email", to=to, subject=subject,
                                body=body, now=now)
    deliver(eng.db, eng.keys, RoutedTransport(mailer), only=(mid,), pack_version=eng.compiled.version, now=now,
            actor="engine")
    return True
