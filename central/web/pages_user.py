"""The user portal: access code, balance, set up my devices, how to print, transactions.

Every page reads the signed-in user from the session; none takes a user name from the URL.
A section the site hides is gone from the menu and its page answers 404.
"""

from __future__ import annotations

from starlette.responses import Response

from central import admin
from central.storage.portal_queries import AccountView
from central.web.guides import AddressError, address, print_guides
from central.web.handler import Ctx, Refused
from central.web.qr import qr_svg

HIDDEN = "Your site does not show this page."


def _account(ctx: Ctx) -> AccountView | None:
    return ctx.portal.queries.account(ctx.username)


def home(ctx: Ctx) -> Response:
    return ctx.render("home.html", account=_account(ctx), new_code=None)


def new_code(ctx: Ctx) -> Response:
    """A new random code, shown once: central keeps only its hash, so it cannot be shown
    again later."""
    account = _account(ctx)
    if account is None:
        raise Refused(404, "You have no print account, so you have no access code.")
    if not ctx.settings.code_self_service:
        raise Refused(403, "Your site does not let you change your access code here."
                           " Ask your administrator.")
    try:
        code = admin.set_code(ctx.portal.ledger(), ctx.portal.codes, ctx.username, None)
    except admin.AdminError as exc:
        raise Refused(409, str(exc)) from None
    return ctx.render("home.html", account=_account(ctx), new_code=code)


def devices(ctx: Ctx) -> Response:
    if not ctx.settings.show_devices:
        raise Refused(404, HIDDEN)
    try:
        where = address(ctx.settings.printer_uri) if ctx.settings.printer_uri else None
        problem = None if where else "Your administrator has not set the printer address yet."
    except AddressError as exc:
        where, problem = None, str(exc)
    link = ctx.base_url + "/devices"
    return ctx.render("devices.html", where=where, problem=problem, qr=qr_svg(link), link=link)


def guides(ctx: Ctx) -> Response:
    return ctx.render("guides.html", guides=print_guides(ctx.settings.printer_name))


def transactions(ctx: Ctx) -> Response:
    if not ctx.settings.show_transactions:
        raise Refused(404, HIDDEN)
    rows = ctx.portal.queries.statement(ctx.username, ctx.portal.now())
    return ctx.render("transactions.html", account=_account(ctx), rows=rows)
