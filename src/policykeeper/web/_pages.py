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

from ._brand import Branding
from ._context import WebContext
from ._errors import ApiError
from ._i18n import COOKIE, LANGUAGES, choose, gettext_for, html_gettext_for, normalise
from ._library_words import own_words

__all__ = ["TEMPLATES", "ctx_of", "gettext_of", "language_of", "redirect", "render", "same_origin"]

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                        extensions=["jinja2.ext.i18n"])
TEMPLATES.newstyle_gettext = True  # type: ignore[attr-defined]  # {% trans %} passes its values as keywords
TEMPLATES.globals["brand"] = Branding()  # the defaults, for a page rendered without a context
TEMPLATES.filters["own"] = own_words  # a flash message's pack words, marked with the pack's language


def language_of(request: Request) -> str:
    """The language this page is shown in (see ``_i18n``): ``?lang=``, the ``pk_lang`` cookie, Accept-Language."""
    return choose(request.query_params.get("lang"), request.cookies.get(COOKIE),
                  request.headers.get("accept-language"))


def gettext_of(request: Request) -> Any:
    """``_(text, **values)`` in the page's language, for flash messages and errors written in Python."""
    return gettext_for(language_of(request))


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
    lang = language_of(request)
    gettext = html_gettext_for(lang)
    page = TEMPLATES.get_template(template).render(
        request=request, pack=pack, msg=request.query_params.get("msg"), err=request.query_params.get("err"),
        brand=ctx.branding,
        lang=lang, languages=LANGUAGES, _=gettext, gettext=gettext, ngettext=gettext.ngettext,  # type: ignore[attr-defined]
        **values)
    response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Content-Security-Policy": "default-src 'self'; "
                                                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                                           "form-action 'self'; frame-ancestors 'none'",
                                                           "Content-Language": lang, "Vary": "Accept-Language, Cookie"})
    asked = normalise(request.query_params.get("lang") or "")
    if asked is not None and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="lax", httponly=True,
                            secure=ctx.secure_cookies)
    return response


def redirect(path: str, *, msg: str | None = None, err: str | None = None, fragment: str = "") -> RedirectResponse:
    """After a form: go to ``path`` (at ``#fragment``, if given) and say what happened there."""
    sep = "&" if "?" in path else "?"
    if msg:
        path += f"{sep}msg={quote(msg)}"
    elif err:
        path += f"{sep}err={quote(err)}"
    return RedirectResponse(f"{path}#{fragment}" if fragment else path, status_code=303)
