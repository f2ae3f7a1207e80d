"""When a signed-in person's session was opened: what proves who they are when they make a request (an address held
for them since then or before; one added during the session proves nothing)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..clock import utc
from ..store._schema import web_sessions
from ._auth import Person
from ._context import WebContext

__all__ = ["session_opened"]


def session_opened(ctx: WebContext, person: Person) -> dt.datetime | None:
    """The moment ``person``'s session was opened, or None if it is not found (then nothing is proven by it)."""
    with ctx.db.connect() as conn:
        at = conn.execute(select(web_sessions.c.created_at).where(web_sessions.c.id == person.session_id)).scalar()
    return None if at is None else utc(at)
