"""When a signed-in person's session was opened: what proves who they are when they make a request (an address held
for them since then or before; one added during the session proves nothing)."""

from __future__ import annotations

import datetime as dt

from ..clock import utc
from ..store import web as web_store
from ._auth import Person
from ._context import WebContext

__all__ = ["session_opened"]


def session_opened(ctx: WebContext, person: Person) -> dt.datetime | None:
    """The moment ``person``'s session was opened, or None if it is not found (then nothing is proven by it)."""
    with ctx.db.connect() as conn:
        at = web_store.session_created_at(conn, person.session_id)
    return None if at is None else utc(at)
