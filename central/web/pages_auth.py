"""Sign-in, sign-out and the one-time invite link that sets a password."""

from __future__ import annotations

from starlette.responses import Response

from central.storage.portal_accounts import PortalAccounts, Role
from central.web.auth import (
    PasswordError,
    check_password,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from central.web.handler import SESSION_COOKIE, Ctx, Refused

INVITE_HOURS = 72.0


class InviteError(ValueError):
    """An invite that cannot be made, in plain words."""


def issue_invite(accounts: PortalAccounts, username: str, role: Role, base_url: str,
                 now: float, hours: float = INVITE_HOURS) -> str:
    """Store the digest of a new token and return the link; the token itself is not kept."""
    if hours <= 0:
        raise InviteError("an invite must be valid for some hours")
    token = new_token()
    accounts.add_invite(token_digest(token), username, role, now, now + hours * 3600)
    return f"{base_url.rstrip('/')}/invite/{token}"


def _start_session(ctx: Ctx, username: str) -> None:
    portal = ctx.portal
    token, now = new_token(), portal.clock()
    portal.accounts.add_session(token_digest(token), username, new_token(), now,
                                now + portal.session_s)
    ctx.cookies.append((SESSION_COOKIE, token, portal.session_s))


def _safe_next(target: str) -> str:
    """Only a path on this site, never another site (open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def signin_form(ctx: Ctx) -> Response:
    if ctx.session:
        return ctx.redirect("/")
    return ctx.render("signin.html", next=_safe_next(ctx.arg("next")))


def signin(ctx: Ctx) -> Response:
    portal = ctx.portal
    username, password = ctx.field("username"), ctx.field("password")
    target = _safe_next(ctx.field("next"))
    address = ctx.request.client.host if ctx.request.client else "unknown"
    now = portal.clock()
    since = now - portal.policy.window_s
    keys = [f"name:{username}", f"addr:{address}"]
    wait = portal.policy.wait(portal.accounts.failures(keys[0], since),
                              portal.accounts.failures(keys[1], since), now)
    if wait is not None:
        seconds, why = max(1, round(wait[0])), wait[1]
        text = (f"Too many wrong passwords: sign-in is locked for {seconds} seconds."
                if why == "locked" else
                f"Wrong password several times: wait {seconds} seconds and try again.")
        response = ctx.render("signin.html", status=429, error=text, next=target,
                              username=username)
        response.headers["Retry-After"] = str(seconds)
        return response
    user = portal.accounts.user(username) if username else None
    if not verify_password(user.password_hash if user else None, password):
        portal.accounts.record_failure(keys, now, portal.policy.window_s)
        return ctx.render("signin.html", status=401, next=target, username=username,
                          error="That user name and password do not match.")
    _start_session(ctx, username)
    return ctx.redirect("/admin" if target == "/" and user and user.role == "admin"
                        else target)


def signout(ctx: Ctx) -> Response:
    token = ctx.request.cookies.get(SESSION_COOKIE)
    if token:
        ctx.portal.accounts.end_session(token_digest(token))
    ctx.cookies.append((SESSION_COOKIE, "", None))
    return ctx.redirect("/signin")


def _invite(ctx: Ctx) -> tuple[str, tuple[str, Role]]:
    token = ctx.request.path_params["token"]
    found = ctx.portal.accounts.invite(token_digest(token), ctx.portal.clock())
    if found is None:
        raise Refused(404, "This invite link was already used or has expired. Ask your"
                           " administrator for a new one.")
    return token, found


def invite_form(ctx: Ctx) -> Response:
    _token, (username, _role) = _invite(ctx)
    return ctx.render("invite.html", invited=username)


def accept_invite(ctx: Ctx) -> Response:
    token, (username, _role) = _invite(ctx)
    password = ctx.field("password")
    try:
        check_password(password, username)
        if password != ctx.field("password2"):
            raise PasswordError("the two passwords differ")
    except PasswordError as exc:
        return ctx.render("invite.html", status=400, invited=username,
                          error=str(exc).capitalize() + ".")
    redeemed = ctx.portal.accounts.redeem_invite(token_digest(token), hash_password(password),
                                                 ctx.portal.clock())
    if redeemed is None:
        raise Refused(404, "This invite link was already used or has expired.")
    ctx.session = None
    _start_session(ctx, redeemed[0])
    return ctx.redirect("/admin" if redeemed[1] == "admin" else "/")
