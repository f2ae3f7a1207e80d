"""Shared by the server-rendered pages (privacy center, admin console): templates, CSRF, flash messages.

Pages work without JavaScript: every action is a plain form POST answered by a redirect (303) to a page that says
what happened. Forms that change something carry the CSRF token of the session (``csrf`` field).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ._context import WebContext
from ._errors import ApiError

__all__ = ["TEMPLATES", "ctx_of", "redirect", "render", "same_origin"]

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def ctx_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.pk
    return ctx


def same_origin(request: Request) -> None:
    """Forms are accepted only from this site: a browser's ``Origin`` on a POST must be this server (or its public
    URL). This also stops login CSRF (a cross-site form signing someone in as another person), which the session's
    CSRF token cannot, since there is no session yet. Clients that send no ``Origin`` (not browsers) pass; their
    forms still need the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    here = f"{request.url.scheme}://{request.url.netloc}"
    if origin not in (here, ctx_of(request).public_url):
        raise ApiError(403, "forbidden", "this form was sent from another site; open the page here and send it again")


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page from ``templates/``, with the pack in force, the flash message (``?msg=``) and error (``?err=``)."""
    ctx = ctx_of(request)
    pack = ctx.engine().pack
    page = TEMPLATES.get_template(template).render(
        request=request, pack=pack, msg=request.query_params.get("msg"), err=request.query_params.get("err"),
        **values)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Content-Security-Policy": "default-src 'self'; "
                                                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                                           "form-action 'self'; frame-ancestors 'none'"})


def redirect(path: str, *, msg: str | None = None, err: str | None = None) -> RedirectResponse:
    """After a form: go to ``path`` and say what happened there."""
    sep = "&" if "?" in path else "?"
    if msg:
        path += f"{sep}msg={quote(msg)}"
    elif err:
        path += f"{sep}err={quote(err)}"
    return RedirectResponse(path, status_code=303)
