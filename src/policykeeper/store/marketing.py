"""Marketing's storage: the trackers (the log of the messages it sends is ``store/messages.py``).

Rows leave as frozen dataclasses; every function takes the caller's connection, so a change stays one transaction.
A tracker's terms are one pydantic model, :class:`TrackerTerms`, which the audit entry of its registration
(``audit._events.TrackerEvent``) extends: the stored row and the audit entry cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from ._schema import trackers

__all__ = ["Tracker", "TrackerTerms", "register_tracker", "tracker_named", "trackers_of"]


class TrackerTerms(BaseModel):
    """What the pack requires to be disclosed about a tracker: its technology, the purpose it serves, whose it is
    (first or third party, and which recipient sets a third-party one), how long it lasts and where it is placed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    technology: str
    purpose: str
    party: str
    recipient: str | None
    lifetime: str
    placement: str


@dataclass(frozen=True, slots=True)
class Tracker:
    """One registered cookie or similar tracker: its id, its name and its terms."""

    id: int
    name: str
    terms: TrackerTerms


_COLUMNS = (trackers.c.id, trackers.c.name, trackers.c.technology, trackers.c.purpose, trackers.c.party,
            trackers.c.recipient, trackers.c.lifetime, trackers.c.placement)


def _tracker(r: Any) -> Tracker:
    return Tracker(int(r.id), r.name, TrackerTerms(technology=r.technology, purpose=r.purpose, party=r.party,
                                                   recipient=r.recipient, lifetime=r.lifetime, placement=r.placement))


def tracker_named(conn: Connection, pack_id: str, name: str) -> Tracker | None:
    """The tracker registered under ``name`` for the pack, if any."""
    row = conn.execute(select(*_COLUMNS).where(trackers.c.pack_id == pack_id, trackers.c.name == name)).first()
    return None if row is None else _tracker(row)


def register_tracker(conn: Connection, *, pack_id: str, name: str, terms: TrackerTerms, at: dt.datetime,
                     by: str) -> int:
    """Add a tracker; returns its id."""
    return int(conn.execute(trackers.insert().values(
        pack_id=pack_id, name=name, **terms.model_dump(), registered_at=at, registered_by=by).returning(trackers.c.id)
    ).scalar_one())


def trackers_of(conn: Connection, pack_id: str) -> list[Tracker]:
    """The trackers registered for the pack, in registration order."""
    return [_tracker(r) for r in conn.execute(select(*_COLUMNS).where(trackers.c.pack_id == pack_id)
                                              .order_by(trackers.c.id))]
