"""Page guards as FastAPI dependencies: a page that cannot go on (no session, no permission, a stale form, a request
that is not there) raises :class:`PageStop` with the answer to give instead, and one exception handler gives it.

The console's guards (``require_staff``, ``staff_form``) live in ``admin``, the privacy center's (``signed_in``,
``signed_form``) in ``center``; each page declares the one it needs as a parameter, so no page repeats the check.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

__all__ = ["PageStop", "install_page_guards"]


class PageStop(Exception):
    """A page cannot go on: answer with ``response`` (a redirect to sign in, a 403 or 404 page) instead."""

    def __init__(self, response: Response) -> None:
        super().__init__("stop")
        self.response = response


async def _answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageStop)
    return exc.response


def install_page_guards(app: FastAPI) -> None:
    """Answer every :class:`PageStop` a page or its guard raises with the response it carries."""
    app.add_exception_handler(PageStop, _answer)
