"""The admin console: users, groups, the transaction log with CSV, the review queue, devices,
quotas, member syncs and fee runs, and the portal's settings. Admins only (the route table
says so; `handler` refuses everyone else before a page runs)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlencode

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from central import admin
from central.money import MoneyError, parse_money
from central.storage.base import StorageError, TxnRecord
from central.storage.portal_queries import PAGE, TXN_TYPES, LogFilter
from central.storage.records import Posting
from central.web.guides import AddressError, address
from central.web.handler import Ctx, Refused
from central.web.pages_auth import issue_invite
from central.web.portal import PORTAL_SETTINGS, PRINTER_URI, YES_NO

USERS_PAGE = 50
_REFUND_IDS = uuid.UUID("5f0c2a4e-8d1b-4c3e-9a7f-2b6d1e0c9a11")


def _by(ctx: Ctx) -> str:
    return f"admin:{ctx.username}"


def _money(ctx: Ctx, name: str) -> int:
    try:
        return parse_money(ctx.field(name), ctx.settings.currency)
    except MoneyError as exc:
        raise Refused(400, f"{name.replace('_', ' ').capitalize()}: {exc}") from None


def home(ctx: Ctx) -> Response:
    return ctx.redirect("/admin/users")


def users(ctx: Ctx) -> Response:
    search = ctx.arg("q")
    page = max(0, int(ctx.arg("page") or 0)) if ctx.arg("page").isdigit() else 0
    rows, total = ctx.portal.queries.accounts(search, page * USERS_PAGE, USERS_PAGE)
    return ctx.render("admin/users.html", rows=rows, total=total, q=search, page=page,
                      pages=(total + USERS_PAGE - 1) // USERS_PAGE)


def _user(ctx: Ctx, message: str = "", code: str = "", link: str = "",
          status: int = 200) -> Response:
    name = ctx.request.path_params["username"]
    account = ctx.portal.queries.account(name)
    if account is None:
        raise Refused(404, f"There is no user {name!r}.")
    recent = ctx.portal.queries.log(LogFilter(user=name), limit=10)
    return ctx.render("admin/user.html", status=status, account=account,
                      rows=[r for _, r in recent], message=message, failed=status >= 400,
                      new_code=code, invite=link,
                      groups=ctx.portal.ledger().groups())


def user(ctx: Ctx) -> Response:
    return _user(ctx)


def _target(ctx: Ctx) -> str:
    name = ctx.request.path_params["username"]
    if ctx.portal.queries.account(name) is None:
        raise Refused(404, f"There is no user {name!r}.")
    return name


def user_limits(ctx: Ctx) -> Response:
    name = _target(ctx)
    ctx.portal.ledger().update_account(name, restricted=ctx.field("restricted") == "yes",
                                       credit_limit=_money(ctx, "credit_limit"))
    return _user(ctx, "Saved.")


def user_groups(ctx: Ctx) -> Response:
    name = _target(ctx)
    assert ctx.form is not None
    chosen = [g for g in ctx.form.getlist("group") if isinstance(g, str) and g]
    ctx.portal.ledger().update_account(name, groups=chosen)
    return _user(ctx, "Groups saved.")


def user_adjust(ctx: Ctx) -> Response:
    name = _target(ctx)
    amount, comment = _money(ctx, "amount"), ctx.field("comment")
    if not comment:
        raise Refused(400, "Say why in the comment: the user sees it on their statement.")
    if amount == 0:
        raise Refused(400, "An adjustment of 0 changes nothing.")
    result = admin.post(ctx.portal.ledger(), name, "adjustment", amount,
                        note="Balance adjustment", comment=comment[:500], by=_by(ctx))
    return _user(ctx, f"Adjusted; the new balance is recorded as transaction {result.txn_id}.")


def user_card(ctx: Ctx) -> Response:
    name = _target(ctx)
    try:
        number = admin.add_card(ctx.portal.ledger(), name, ctx.field("card"))
    except (admin.AdminError, ValueError) as exc:
        return _user(ctx, str(exc), status=400)
    return _user(ctx, f"Card {number} added.")


def user_code(ctx: Ctx) -> Response:
    name = _target(ctx)
    code = admin.set_code(ctx.portal.ledger(), ctx.portal.codes, name, None)
    return _user(ctx, "A new access code was made; the old one no longer works.", code=code)


def user_invite(ctx: Ctx) -> Response:
    name = _target(ctx)
    link = issue_invite(ctx.portal.accounts, name, "user", ctx.base_url, ctx.portal.clock())
    return _user(ctx, "Send this link to the user; it works once, for 72 hours.", link=link)


def groups(ctx: Ctx) -> Response:
    ledger = ctx.portal.ledger()
    return ctx.render("admin/groups.html", groups=ledger.groups(), quotas=ledger.quotas())


def _filter(ctx: Ctx) -> LogFilter:
    def day(name: str) -> dt.date | None:
        text = ctx.arg(name)
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise Refused(400, f"{text!r} is not a date: use YYYY-MM-DD.") from None

    kind = ctx.arg("type")
    if kind and kind not in TXN_TYPES:
        raise Refused(400, f"{kind!r} is not a transaction type: use one of"
                           f" {', '.join(TXN_TYPES)}.")
    return LogFilter(ctx.arg("user"), ctx.arg("device"), kind, day("from"), day("to"))


def _query(where: LogFilter, **extra: object) -> str:
    pairs = {"user": where.user, "device": where.device, "type": where.type,
             "from": where.since.isoformat() if where.since else "",
             "to": where.until.isoformat() if where.until else "", **extra}
    return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})


def transactions(ctx: Ctx) -> Response:
    where = _filter(ctx)
    before = int(ctx.arg("before")) if ctx.arg("before").isdigit() else None
    rows = ctx.portal.queries.log(where, before)
    more = _query(where, before=rows[-1][0]) if len(rows) == PAGE else ""
    return ctx.render("admin/transactions.html", rows=[r for _, r in rows], where=where,
                      types=TXN_TYPES, more=more, csv_query=_query(where))


def transactions_csv(ctx: Ctx) -> Response:
    """Streamed, so a million rows never sit in memory; same columns as `central export`."""
    rows = ctx.portal.queries.log_all(_filter(ctx))

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(admin.EXPORT_COLUMNS)
        for count, record in enumerate(rows, start=1):
            writer.writerow(admin.export_row(record))
            if count % 1000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = ctx.portal.now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="transactions-{stamp}.csv"'})


def review(ctx: Ctx, message: str = "", status: int = 200) -> Response:
    decided = ctx.portal.accounts.decided()
    queue = []
    for record, given in ctx.portal.queries.review_queue():
        job = json.loads(record.job_json or "{}")
        done = given >= -record.amount or record.txn_id in decided
        queue.append((record, given, job, done))
    return ctx.render("admin/review.html", status=status, queue=queue, message=message)


def _charge(ctx: Ctx) -> TxnRecord:
    txn_id = ctx.request.path_params["txn_id"]
    record = ctx.portal.queries.get_txn(txn_id)
    if record is None or record.origin != "device" or record.amount >= 0:
        raise Refused(404, f"There is no charge {txn_id} to review.")
    return record


def review_refund(ctx: Ctx) -> Response:
    record = _charge(ctx)
    left = -record.amount - ctx.portal.queries.given_back(record)
    if left <= 0:
        return review(ctx, "That charge has already been given back in full.", status=409)
    # One id per charge: a second click, or a second admin at once, refunds nothing more.
    posting = Posting(str(uuid.uuid5(_REFUND_IDS, record.txn_id)), record.username, left,
                      "refund", _by(ctx), f"Refund of {record.type} charge {record.txn_id}",
                      ctx.field("comment")[:500] or "Refunded after review", type="refund",
                      occurred_at=ctx.portal.now(), job_json=record.job_json,
                      refund_of=record.txn_id)
    result = ctx.portal.ledger().post([posting])[0]
    if result.status != "applied":
        return review(ctx, "That charge has already been refunded.", status=409)
    ctx.portal.accounts.decide(record.txn_id, "refunded", ctx.username, ctx.portal.clock())
    return ctx.redirect("/admin/review?done=" + quote(record.txn_id))


def review_partial(ctx: Ctx) -> Response:
    """Part of a charge given back, as an adjustment that carries the job as evidence."""
    record = _charge(ctx)
    amount = _money(ctx, "amount")
    left = -record.amount - ctx.portal.queries.given_back(record)
    if not 0 < amount <= left:
        raise Refused(400, "A partial refund is more than 0 and at most what is left of the"
                           " charge.")
    admin.post(ctx.portal.ledger(), record.username, "adjustment", amount,
               note=f"Partial refund of {record.type} charge {record.txn_id}",
               comment=ctx.field("comment")[:500] or "Partly refunded after review",
               job_json=record.job_json, by=_by(ctx))
    ctx.portal.accounts.decide(record.txn_id, "partial", ctx.username, ctx.portal.clock())
    return ctx.redirect("/admin/review?done=" + quote(record.txn_id))


def review_keep(ctx: Ctx) -> Response:
    record = _charge(ctx)
    ctx.portal.accounts.decide(record.txn_id, "kept", ctx.username, ctx.portal.clock())
    return ctx.redirect("/admin/review?done=" + quote(record.txn_id))


def devices(ctx: Ctx) -> Response:
    watch = ctx.portal.devices
    return ctx.render("admin/devices.html", watching=watch is not None,
                      connected=bool(watch and watch.connected.is_set()),
                      devices=watch.devices() if watch else [])


def schedule(ctx: Ctx) -> Response:
    ledger = ctx.portal.ledger()
    runs = []
    for run in ledger.runs(limit=100):
        try:
            report = json.loads(run.report) if run.report else None
        except json.JSONDecodeError:
            report = None
        runs.append((run, report))
    return ctx.render("admin/schedule.html", quotas=ledger.quotas(), runs=runs,
                      settings=ledger.settings())


def run_report(ctx: Ctx) -> Response:
    run = ctx.portal.ledger().get_run(ctx.request.path_params["key"])
    if run is None:
        raise Refused(404, "There is no such run.")
    try:
        report = json.loads(run.report) if run.report else None
    except json.JSONDecodeError:
        report = None
    return ctx.render("admin/run.html", run=run, report=report, raw=run.report)


def settings_form(ctx: Ctx, message: str = "", status: int = 200) -> Response:
    values = ctx.portal.ledger().settings()
    return ctx.render("admin/settings.html", status=status, values=values,
                      meanings=PORTAL_SETTINGS, yes_no=YES_NO, message=message)


def settings_save(ctx: Ctx) -> Response:
    ledger = ctx.portal.ledger()
    for key in YES_NO:
        ledger.set_setting(key, "yes" if ctx.field(key) == "yes" else "no")
    uri = ctx.field(PRINTER_URI)
    if uri:
        try:
            address(uri)
        except AddressError as exc:
            return settings_form(ctx, str(exc), status=400)
    for key in PORTAL_SETTINGS:
        if key not in YES_NO:
            ledger.set_setting(key, ctx.field(key)[:300] or None)
    return ctx.redirect("/admin/settings?saved=1")


def _refuse_storage(page: Callable[[Ctx], Response]) -> Callable[[Ctx], Response]:
    """A ledger refusal (unknown group, code taken) is shown in its own words."""
    def run(ctx: Ctx) -> Response:
        try:
            return page(ctx)
        except (StorageError, admin.AdminError) as exc:
            raise Refused(409, str(exc)) from None

    run.__name__ = page.__name__
    return run


def routes(route: Callable[..., Route]) -> list[Route]:
    post = ("POST",)
    pages: list[tuple[str, Callable[[Ctx], Response], tuple[str, ...]]] = [
        ("/admin", home, ("GET",)),
        ("/admin/users", users, ("GET",)),
        ("/admin/users/{username}", user, ("GET",)),
        ("/admin/users/{username}/limits", user_limits, post),
        ("/admin/users/{username}/groups", user_groups, post),
        ("/admin/users/{username}/adjust", user_adjust, post),
        ("/admin/users/{username}/card", user_card, post),
        ("/admin/users/{username}/code", user_code, post),
        ("/admin/users/{username}/invite", user_invite, post),
        ("/admin/groups", groups, ("GET",)),
        ("/admin/transactions", transactions, ("GET",)),
        ("/admin/transactions.csv", transactions_csv, ("GET",)),
        ("/admin/review", review, ("GET",)),
        ("/admin/review/{txn_id}/refund", review_refund, post),
        ("/admin/review/{txn_id}/partial", review_partial, post),
        ("/admin/review/{txn_id}/keep", review_keep, post),
        ("/admin/devices", devices, ("GET",)),
        ("/admin/schedule", schedule, ("GET",)),
        ("/admin/runs/{key:path}", run_report, ("GET",)),
        ("/admin/settings", settings_form, ("GET",)),
        ("/admin/settings", settings_save, post),
    ]
    return [route(path, _refuse_storage(page), "admin", methods)
            for path, page, methods in pages]
