"""How every page runs: find the session, check CSRF on every POST, check the role, then call
the page's plain function in a worker thread (SQLite and argon2 block).

A page never takes a user name from the request for the user portal: it reads the signed-in
user from the session, so changing an id in a URL cannot show someone else's data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from central.storage.portal_accounts import Session
from central.web.auth import new_token, same, token_digest
from central.web.portal import Portal, PortalSettings

SESSION_COOKIE = "pt_session"
PRESESSION_COOKIE = "pt_csrf"  # double-submit token for the forms used before signing in
Need = Literal["anyone", "user", "admin"]


class Refused(Exception):
    """A request refused with a status and a sentence for the person who made it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Ctx:
    request: Request
    portal: Portal
    form: FormData | None
    session: Session | None
    presession: str
    settings: PortalSettings
    cookies: list[tuple[str, str, float | None]] = field(default_factory=list)

    @property
    def username(self) -> str:
        assert self.session is not None
        return self.session.username

    def field(self, name: str) -> str:
        value = self.form.get(name, "") if self.form is not None else ""
        return value.strip() if isinstance(value, str) else ""

    def arg(self, name: str) -> str:
        return self.request.query_params.get(name, "").strip()

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        env = self.request.app.state.templates
        html = env.get_template(template).render(
            session=self.session, csrf=self.csrf, site=self.settings, path=self.request.url.path,
            **values)
        return HTMLResponse(html, status_code=status)

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else self.presession

    @property
    def base_url(self) -> str:
        """Where users reach the portal: the configured address, else this request's."""
        return (self.settings.public_url or str(self.request.base_url)).rstrip("/")

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


Page = Callable[[Ctx], Response]


def _session(portal: Portal, request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    return portal.accounts.session(token_digest(token), portal.clock()) if token else None


def _check_csrf(ctx: Ctx) -> None:
    sent = ctx.field("csrf")
    expected = ctx.session.csrf if ctx.session else ctx.request.cookies.get(PRESESSION_COOKIE, "")
    if not sent or not expected or not same(sent, expected):
        raise Refused(403, "This form has expired or did not come from this site. Go back,"
                           " reload the page and try again.")
    origin = ctx.request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") != _own_origin(ctx.request):
        raise Refused(403, "This form was sent from another site and was refused.")


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _run(page: Page, need: Need, request: Request, form: FormData | None) -> Response:
    portal: Portal = request.app.state.portal
    session = _session(portal, request)
    presession = request.cookies.get(PRESESSION_COOKIE) or new_token()
    ctx = Ctx(request, portal, form, session, presession, portal.settings())
    try:
        if request.method == "POST":
            _check_csrf(ctx)
        if need != "anyone" and session is None:
            if request.method == "GET":
                return ctx.redirect("/signin?next=" + quote(request.url.path))
            raise Refused(403, "You are not signed in. Sign in and try again.")
        if need == "admin" and session is not None and session.role != "admin":
            raise Refused(403, "This page is for administrators.")
        response = page(ctx)
    except Refused as exc:
        response = ctx.render("error.html", status=exc.status, message=exc.message)
    secure = portal.secure_cookies or request.url.scheme == "https"
    if session is None and PRESESSION_COOKIE not in request.cookies:
        response.set_cookie(PRESESSION_COOKIE, presession, httponly=True, samesite="lax",
                            secure=secure, path="/")
    for name, value, max_age in ctx.cookies:
        if value:
            response.set_cookie(name, value, max_age=int(max_age or 0), httponly=True,
                                samesite="lax", secure=secure, path="/")
        else:
            response.delete_cookie(name, httponly=True, samesite="lax", secure=secure,
                                   path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


def endpoint(page: Page, need: Need) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(_run, page, need, request, form)

    run.__name__ = page.__name__
    return run
