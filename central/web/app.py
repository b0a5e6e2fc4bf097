"""The portal and admin console as one Starlette app, server-rendered (no build step)."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.storage.sqldb import DatabaseUnavailable
from central.web import pages_admin, pages_auth, pages_user
from central.web.handler import Need, Page, endpoint
from central.web.portal import Portal
from central.web.render import STATIC, environment

log = logging.getLogger("pagetally.central.web")

# No inline script or style anywhere; forms post only here; no framing; the invite token in
# a URL never leaves in a Referer.
HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self';"
     b" script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def _route(path: str, page: Page, need: Need, methods: tuple[str, ...] = ("GET",)) -> Route:
    return Route(path, endpoint(page, need), methods=list(methods), name=page.__name__)


def routes() -> list[BaseRoute]:
    return [
        _route("/signin", pages_auth.signin_form, "anyone"),
        _route("/signin", pages_auth.signin, "anyone", ("POST",)),
        _route("/signout", pages_auth.signout, "anyone", ("POST",)),
        _route("/invite/{token}", pages_auth.invite_form, "anyone"),
        _route("/invite/{token}", pages_auth.accept_invite, "anyone", ("POST",)),
        _route("/", pages_user.home, "user"),
        _route("/code", pages_user.new_code, "user", ("POST",)),
        _route("/devices", pages_user.devices, "user"),
        _route("/guides", pages_user.guides, "user"),
        _route("/transactions", pages_user.transactions, "user"),
        *pages_admin.routes(_route),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


DOWN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Try again soon</title>
<link rel="stylesheet" href="/static/portal.css"></head><body><main><section class="card">
<h1>Try again in a minute</h1><p class="error" role="alert">The accounts database cannot be
reached right now, so this page cannot be shown. Nothing was changed.</p>
<p><a href="/">Try again</a></p></section></main></body></html>"""


async def database_down(_request: Request, exc: Exception) -> Response:
    """PostgreSQL restarting or failing over: a plain page, not a stack trace."""
    log.error("a page could not be shown: %s", exc)
    return HTMLResponse(DOWN_PAGE, status_code=503, headers={"Retry-After": "30"})


def create_app(portal: Portal) -> Starlette:
    app = Starlette(routes=routes(), middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={DatabaseUnavailable: database_down})
    app.state.portal = portal
    app.state.templates = environment()
    return app
