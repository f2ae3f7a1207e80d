"""policykeeper on the web: the REST API (``/v1``), the privacy center for people and the admin console for staff.

``create_app(ctx)`` builds the FastAPI application; ``policykeeper serve`` runs it with uvicorn on the embedded
default (a SQLite file and a bundled pack in ``~/.policykeeper``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from .. import __version__
from ._auth import ROLES, create_api_key
from ._context import MemoryMailer, WebContext
from ._errors import BodyLimit, CatchAll, NoUnstorableText, install_error_handlers
from ._guards import install_page_guards

__all__ = ["ROLES", "MemoryMailer", "WebContext", "app_from_environment", "create_api_key", "create_app"]


def app_from_environment() -> FastAPI:
    """The application of one worker process of ``serve --workers N``: settings from the environment
    ($POLICYKEEPER_HOME, $POLICYKEEPER_DATABASE_URL, $POLICYKEEPER_PACK) that ``serve`` sets for its workers, mail
    through $POLICYKEEPER_SMTP_URL. Sessions and abuse limits live in the database, so every worker shares them."""
    from .._settings import Settings

    return create_app(WebContext.from_settings(Settings.load()))

def create_app(ctx: WebContext, *, extra: Callable[[FastAPI], None] | None = None) -> FastAPI:
    """The application: API under ``/v1`` (OpenAPI at ``/v1/openapi.json``), pages at ``/`` and ``/admin``."""
    app = FastAPI(title="policykeeper", version=__version__, openapi_url="/v1/openapi.json", docs_url=None,
                  redoc_url=None,
                  description="A privacy policy, enforced: collection, guarded reads and shares, consents, requests, "
                              "and the evidence. One error shape everywhere: "
                              '`{"error": {"code", "message", "where"}}`.')
    app.state.pk = ctx
    install_error_handlers(app)
    install_page_guards(app)  # the pages' guards (sign-in, permission, CSRF) answer through it
    from .admin import router as admin_router
    from .admin_requests import router as admin_requests_router
    from .api import router
    from .center import router as center_router
    from .consent_api import install as install_consent_script

    app.include_router(router)
    app.include_router(center_router, include_in_schema=False)
    app.include_router(admin_router, include_in_schema=False)
    app.include_router(admin_requests_router, include_in_schema=False)
    install_consent_script(app, ctx)
    _install_docs(app)
    if extra is not None:
        extra(app)
    app.add_middleware(NoUnstorableText)  # inside the body limit: it reads bodies already bounded
    app.add_middleware(BodyLimit, limit=ctx.max_body, larger={"/v1/versions": ctx.max_pack_body,
                                                                 "/admin/versions/preview": ctx.max_pack_body,
                                                                 "/admin/versions/publish": ctx.max_pack_body})
    app.add_middleware(CatchAll)
    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/v1/docs`` and ReDoc at ``/v1/redoc``, their scripts and styles served from the installed
    ``fastapi-offline`` package (``/v1/docs/assets``; ReDoc's from ``/v1/docs/redoc.js``, without its CDN logo): the
    docs work with no network beyond this server."""
    from pathlib import Path

    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse, Response
    from fastapi.staticfiles import StaticFiles

    assets = "/v1/docs/assets"
    app.mount(assets, StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"), name="docs-assets")

    @app.get("/v1/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/v1/openapi.json", title="policykeeper API",
                                   swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{assets}/swagger-ui.css",
                                   swagger_favicon_url=f"{assets}/favicon.png")

    @app.get("/v1/docs/redoc.js", include_in_schema=False)
    def redoc_js() -> Response:
        from ._docs import redoc_bundle  # ReDoc without the logo it would load from a CDN

        return Response(redoc_bundle(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/v1/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/v1/openapi.json", title="policykeeper API",
                              redoc_js_url="/v1/docs/redoc.js", redoc_favicon_url=f"{assets}/favicon.png",
                              with_google_fonts=False)
