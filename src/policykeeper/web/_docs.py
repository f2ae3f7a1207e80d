"""The ReDoc bundle the API docs page loads, made to need nothing but this server.

``fastapi-offline`` ships ReDoc's standalone script, whose sidebar footer shows Redocly's small logo loaded from
``cdn.redoc.ly``. The docs take nothing from a CDN: the bundle is served with that image dropped (its address becomes
an empty inline picture with no text, the footer's link keeps its words), read once from the installed package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["REDOC_LOGO", "redoc_bundle"]

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""The one outside address ReDoc's bundle asks for by itself."""

_NOTHING = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20width='1'%20height='1'/%3E"


@cache
def redoc_bundle() -> bytes:
    """ReDoc's standalone script from ``fastapi-offline``, with its logo's CDN address replaced by an empty inline
    picture (marked decorative)."""
    import fastapi_offline

    text = (Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js").read_text(encoding="utf-8")
    text = text.replace('alt:"redocly logo"', 'alt:""').replace(REDOC_LOGO, _NOTHING)
    return text.encode("utf-8")
