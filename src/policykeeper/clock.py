"""Time, in one place: the injectable clock every service reads, and the date arithmetic the pack's durations need.

Every time the engine, a request, a retention sweep or a notice needs "now", it asks a :class:`Clock`. The engine
carries one (``PolicyEngine(..., clock=...)``, the system clock by default) and hands it to every service, so a test
or a replay moves time for all of them at once with a :class:`FixedClock`. A function that accepts an explicit
``now`` (for a sweep "as of" a date) still accepts it: ``clock.at(now)`` is that time in UTC, or the clock's time
when none was given.

Times are kept timezone-aware and in UTC. SQLite hands them back naive; :func:`utc` makes them comparable.

>>> c = FixedClock(dt.datetime(2026, 1, 30, 12, tzinfo=dt.UTC))
>>> c.at(None) == c.now()
True
>>> after(c.now(), FixedDuration(value=1, unit="months")).date()
datetime.date(2026, 2, 28)
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from .pack._types import FixedDuration

__all__ = ["Clock", "FixedClock", "SystemClock", "after", "age", "system", "utc"]


def utc(at: dt.datetime) -> dt.datetime:
    """``at`` as an aware UTC datetime; a naive one (as SQLite returns them) is taken to be UTC already."""
    return at.astimezone(dt.UTC) if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def after(start: dt.datetime, d: FixedDuration, *, back: bool = False) -> dt.datetime:
    """``start`` plus a pack duration (minus it with ``back``); business days skip Saturdays and Sundays, months and
    years are calendar ones (the day is clamped to the month's last)."""
    sign = -1 if back else 1
    if d.unit == "hours":
        return start + sign * dt.timedelta(hours=d.value)
    if d.unit == "calendar_days":
        return start + sign * dt.timedelta(days=d.value)
    if d.unit == "business_days":
        at, left = start, d.value
        while left:
            at += sign * dt.timedelta(days=1)
            left -= at.weekday() < 5
        return at
    months = sign * d.value * (12 if d.unit == "years" else 1)
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return start.replace(year=year, month=month, day=min(start.day, last))


def age(born: dt.date, today: dt.date) -> int:
    """Whole years from ``born`` to ``today`` (a birthday counts from its day)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> dt.datetime:
        """The current time, aware and in UTC."""
        ...

    def at(self, when: dt.datetime | None) -> dt.datetime:
        """``when`` in UTC when one is given, else :meth:`now`."""
        ...


class SystemClock:
    """The machine's clock (the default)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def at(self, when: dt.datetime | None) -> dt.datetime:
        return self.now() if when is None else utc(when)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that says what it is told: for tests, replays and "as of" runs. ``advance`` moves it on."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = utc(start)

    def now(self) -> dt.datetime:
        return self._now

    def at(self, when: dt.datetime | None) -> dt.datetime:
        return self._now if when is None else utc(when)

    def set(self, when: dt.datetime) -> None:
        self._now = utc(when)

    def advance(self, by: dt.timedelta) -> dt.datetime:
        self._now += by
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


system: Clock = SystemClock()
"""The clock used where no engine is at hand (a service given no clock uses this one)."""
