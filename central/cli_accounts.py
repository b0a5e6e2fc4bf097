"""`pagetally central` commands for groups, quotas, site settings, membership sources, syncs,
fee runs and their reports. Parsers here, logic in the modules they call."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from central.feerun import DEFAULT_RUN_AT, FEES_SETTING, RUN_AT_SETTING, run_fees
from central.jobs import DEFAULT_SYNC_AT, SYNC_AT_SETTING, all_jobs
from central.members import config
from central.members.rules import MemberFilter
from central.members.source import MembershipError, MembershipSource
from central.members.sync import FILTER_SETTING, NeedsConfirmation, record, sync
from central.money import format_money, parse_money
from central.schedule import LAST_DAY, ScheduleError, Spec, check_time, zone
from central.scheduler import TIMEZONE_SETTING, Scheduler, default_owner
from central.storage.base import Ledger, StorageError
from central.storage.records import Quota
from central.storage.sqldb import DatabaseError

log = logging.getLogger("pagetally.central.scheduler")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COMMANDS = ("group", "quota", "settings", "source", "sync", "fees", "runs", "schedule")


def _check_setting(key: str, value: str) -> str:
    if key == TIMEZONE_SETTING:
        zone(value)
    elif key in (RUN_AT_SETTING, SYNC_AT_SETTING):
        check_time(value)
    elif key == FEES_SETTING and value not in ("yes", "no"):
        raise ScheduleError(f"{FEES_SETTING} is yes or no")
    return value


SETTINGS = {TIMEZONE_SETTING: "the site's time zone (IANA name), default UTC",
            FEES_SETTING: "yes (default) or no: bill negative balances as fees in the source",
            RUN_AT_SETTING: f"the fee run's time of day, default {DEFAULT_RUN_AT}",
            SYNC_AT_SETTING: f"the daily member sync's time of day, default {DEFAULT_SYNC_AT}"}


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    g = sub.add_parser("group", help="groups and their default limits").add_subparsers(
        dest="group_command", required=True)
    ga = g.add_parser("add", parents=[common], help="add a group")
    ga.add_argument("name")
    for parser in (ga, gs := g.add_parser("set", parents=[common], help="change defaults")):
        parser.add_argument("--restricted", action=argparse.BooleanOptionalAction,
                            default=None, help="new users may not go below -credit limit")
        parser.add_argument("--credit-limit", help="default overdraft, e.g. 5.00")
    gs.add_argument("name")
    gs.add_argument("--apply-to-members", action="store_true",
                    help="also set the defaults on the group's users now")
    g.add_parser("list", parents=[common], help="groups, defaults and member counts")
    g.add_parser("remove", parents=[common], help="remove a group (users stay)").add_argument(
        "name")

    q = sub.add_parser("quota", help="scheduled top-ups").add_subparsers(
        dest="quota_command", required=True)
    qa = q.add_parser("add", parents=[common], help="add a quota for a group")
    qa.add_argument("name")
    qa.add_argument("--group", required=True)
    qa.add_argument("--period", choices=("daily", "weekly", "monthly"), required=True)
    qa.add_argument("--amount", required=True, help="added, or the balance to reset to")
    qa.add_argument("--reset", action="store_true", help="reset the balance to the amount")
    qa.add_argument("--at", default="00:00", help="time of day in the site's zone (HH:MM)")
    qa.add_argument("--weekday", choices=WEEKDAYS, default="mon", help="for weekly quotas")
    qa.add_argument("--monthday", default="1", help="1-28 or 'last', for monthly quotas")
    qa.add_argument("--cap", help="an add never takes the balance past this")
    qa.add_argument("--comment", default="", help="shown with every run's adjustment")
    q.add_parser("list", parents=[common], help="all quotas")
    q.add_parser("remove", parents=[common], help="remove a quota").add_argument("name")

    st = sub.add_parser("settings", help="site settings").add_subparsers(
        dest="settings_command", required=True)
    st.add_parser("show", parents=[common], help="every setting")
    ss = st.add_parser("set", parents=[common], help="; ".join(f"{k}: {v}"
                                                            for k, v in SETTINGS.items()))
    ss.add_argument("key", choices=sorted(SETTINGS))
    ss.add_argument("value")

    so = sub.add_parser("source", help="the membership source").add_subparsers(
        dest="source_command", required=True)
    o = so.add_parser("officernd", parents=[common], help="use OfficeRnD")
    o.add_argument("--org", required=True, help="the organisation slug")
    o.add_argument("--client-id", required=True)
    o.add_argument("--client-secret-file", type=Path, required=True,
                   help="file holding the client secret (kept there, not in the ledger)")
    o.add_argument("--api-url")
    o.add_argument("--identity-url")
    f = so.add_parser("file", parents=[common], help="use a CSV or JSON members file")
    f.add_argument("members", type=Path)
    f.add_argument("--fees", type=Path, required=True, help="where fees are appended")
    so.add_parser("show", parents=[common], help="the source and its member filter")
    fl = so.add_parser("filter", parents=[common], help="who is synced (member management)")
    for name in ("status", "location", "company", "plan", "tag"):
        fl.add_argument(f"--{name}", action="append", help="accepted value (repeatable)")
    fl.add_argument("--any-status", action="store_true", help="do not filter by status")

    sy = sub.add_parser("sync", parents=[common], help="sync members now")
    sy.add_argument("--dry-run", action="store_true", help="show what would change")
    sy.add_argument("--confirm-negatives", action="store_true",
                    help="first sync: go ahead although users have negative balances")

    fe = sub.add_parser("fees", help="the fee run").add_subparsers(dest="fees_command",
                                                                   required=True)
    fe.add_parser("run", parents=[common], help="run the fee run now")
    fr = fe.add_parser("report", parents=[common], help="a fee run's report")
    fr.add_argument("key", nargs="?", help="run key (default: the latest)")

    r = sub.add_parser("runs", parents=[common], help="scheduled and on-demand runs")
    r.add_argument("--kind", choices=("quota", "sync", "feerun"))
    sc = sub.add_parser("schedule", help="the scheduler").add_subparsers(
        dest="schedule_command", required=True)
    sc.add_parser("run-due", parents=[common], help="run what is due now, once (for cron)")


def _money(ledger: Ledger, text: str | None) -> int | None:
    return None if text is None else parse_money(text, ledger.currency)


def _show_money(ledger: Ledger, minor: int) -> str:
    return f"{format_money(minor, ledger.currency)} {ledger.currency}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run(args: argparse.Namespace, ledger: Ledger) -> None:
    cmd, sub = args.command, getattr(args, f"{args.command}_command", None)
    handlers: dict[str, Callable[..., None]] = {
        "group": _group, "quota": _quota, "settings": _settings, "source": _source,
        "sync": _sync, "fees": _fees, "runs": _runs, "schedule": _schedule}
    handler = handlers[cmd]
    handler(args, ledger, sub)


def _group(args: argparse.Namespace, ledger: Ledger, sub: str) -> None:
    if sub == "add":
        g = ledger.add_group(args.name, restricted=args.restricted is not False,
                             credit_limit=_money(ledger, args.credit_limit) or 0)
        print(f"added group {g.name}")
    elif sub == "set":
        g = ledger.update_group(args.name, restricted=args.restricted,
                                credit_limit=_money(ledger, args.credit_limit),
                                apply_to_members=args.apply_to_members)
        print(f"group {g.name}: {'restricted' if g.restricted else 'unrestricted'}, credit"
              f" limit {_show_money(ledger, g.credit_limit)}")
    elif sub == "remove":
        ledger.remove_group(args.name)
        print(f"removed group {args.name}")
    else:
        for g in ledger.groups():
            print(f"{g.name}: {g.members} user(s), new users"
                  f" {'restricted' if g.restricted else 'unrestricted'}, credit limit"
                  f" {_show_money(ledger, g.credit_limit)}")


def _quota(args: argparse.Namespace, ledger: Ledger, sub: str) -> None:
    if sub == "add":
        monthday = LAST_DAY if args.monthday == "last" else int(args.monthday) \
            if args.monthday.isdigit() else 0
        spec = Spec(args.period, args.at, WEEKDAYS.index(args.weekday), monthday)
        amount = _money(ledger, args.amount)
        assert amount is not None
        quota = ledger.add_quota(Quota(args.name, args.group, spec.period, amount,
                                       "reset" if args.reset else "add", spec.at,
                                       spec.weekday, spec.monthday,
                                       _money(ledger, args.cap), args.comment, _now()))
        print(f"added quota {quota.name}: {_describe(ledger, quota)}")
    elif sub == "remove":
        ledger.remove_quota(args.name)
        print(f"removed quota {args.name}")
    else:
        for quota in ledger.quotas():
            print(f"{quota.name}: {_describe(ledger, quota)}")


def _describe(ledger: Ledger, q: Quota) -> str:
    what = (f"reset to {_show_money(ledger, q.amount)}" if q.mode == "reset"
            else f"add {_show_money(ledger, q.amount)}"
            + (f" up to {_show_money(ledger, q.cap)}" if q.cap is not None else ""))
    when = {"daily": "every day", "weekly": f"every {WEEKDAYS[q.weekday]}",
            "monthly": "on the last day of every month" if q.monthday == LAST_DAY
            else f"on day {q.monthday} of every month"}[q.period]
    return f"{what} for group {q.group}, {when} at {q.at}" + (
        f" ({q.comment})" if q.comment else "")


def _settings(args: argparse.Namespace, ledger: Ledger, sub: str) -> None:
    if sub == "set":
        ledger.set_setting(args.key, _check_setting(args.key, args.value))
        print(f"{args.key} = {args.value}")
        return
    values = ledger.settings()
    for key, meaning in SETTINGS.items():
        print(f"{key} = {values.get(key, '(default)')}    # {meaning}")


def _source(args: argparse.Namespace, ledger: Ledger, sub: str) -> None:
    if sub == "officernd":
        config.set_officernd(ledger, args.org, args.client_id, args.client_secret_file,
                             args.api_url, args.identity_url)
    elif sub == "file":
        config.set_file(ledger, args.members, args.fees)
    elif sub == "filter":
        statuses = None if args.any_status else tuple(args.status or ("active",))
        wanted = MemberFilter(statuses, *(tuple(v) if v else None for v in
                                          (args.location, args.company, args.plan, args.tag)))
        ledger.set_setting(FILTER_SETTING, wanted.to_json())
    print(f"source: {config.describe(ledger)}")
    wanted = MemberFilter.from_json(ledger.get_setting(FILTER_SETTING))
    print("synced: " + ", ".join(f"{k} in {list(v)}" for k, v in json.loads(
        wanted.to_json()).items() if v is not None) or "synced: every member")


def _open(ledger: Ledger) -> MembershipSource:
    source = config.open_source(ledger)
    if source is None:
        raise MembershipError("no membership source is set: use 'source officernd' or"
                              " 'source file' first")
    return source


def _sync(args: argparse.Namespace, ledger: Ledger, sub: None) -> None:
    source = _open(ledger)
    try:
        result = sync(ledger, source, dry_run=args.dry_run,
                      confirm_negatives=args.confirm_negatives)
    except NeedsConfirmation as exc:
        raise MembershipError(f"the first sync did not run: {exc}") from None
    s = result.plan.summary()
    verb = "would" if args.dry_run else "did"
    print(f"{'dry run: ' if args.dry_run else ''}{'first ' if s['first'] else ''}sync from"
          f" {source.key} {verb} create {s['create']}, update {s['update']}, remove"
          f" {s['remove']}, move {s['unlinked']} to the unlinked group;"
          f" {s['unchanged']} unchanged")
    for line in result.plan.skipped[:20]:
        print(f"  skipped {line}")
    if result.applied:
        now = _now()
        record(ledger, result, f"sync:manual:{now.isoformat()}", default_owner(), now)


def _fees(args: argparse.Namespace, ledger: Ledger, sub: str) -> None:
    if sub == "run":
        now, owner = _now(), default_owner()
        key = f"feerun:manual:{now.isoformat()}"
        ledger.claim_run(key, "feerun", now, owner, now, 600)
        report = run_fees(ledger, _open(ledger), key, now.date()).to_json()
        ledger.finish_run(key, owner, report)
        print_fee_report(ledger, key, report)
        return
    runs = ([ledger.get_run(args.key)] if args.key else ledger.runs("feerun", limit=1))
    if not runs or runs[0] is None:
        raise MembershipError("no fee run has been recorded" if not args.key
                              else f"there is no run {args.key}")
    print_fee_report(ledger, runs[0].key, runs[0].report)


def print_fee_report(ledger: Ledger, key: str, text: str) -> None:
    if not text:
        print(f"{key}: not finished")
        return
    report = json.loads(text)
    if report["off"]:
        print(f"{key}: off ({FEES_SETTING} = no); nothing billed")
        return
    print(f"{key}: {len(report['fees'])} fee(s), {_show_money(ledger, report['total'])}")
    for fee in report["fees"]:
        print(f"  {fee['user']}: {_show_money(ledger, fee['amount'])}, fee {fee['fee_id']}"
              f" for member {fee['member']}")
    for fee in report["failed"]:
        print(f"  NOT BILLED {fee['user']}: {_show_money(ledger, fee['amount'])}:"
              f" {fee['error']}")
    for user in report["unlinked"]:
        print(f"  not a member, not billed: {user['user']}"
              f" ({_show_money(ledger, user['balance'])})")


def _runs(args: argparse.Namespace, ledger: Ledger, sub: None) -> None:
    for r in ledger.runs(args.kind):
        ended = f"done {r.finished_at:%Y-%m-%d %H:%M:%S}Z" if r.finished_at else "running"
        print(f"{r.key}: due {r.due_at:%Y-%m-%d %H:%M}Z, {ended}, by {r.owner}")


def _schedule(args: argparse.Namespace, ledger: Ledger, sub: str) -> None:
    outcomes = Scheduler(ledger, all_jobs).tick()
    for o in outcomes:
        print(f"{o.key}: {'FAILED: ' + o.error if o.error else 'done'}")
    if not outcomes:
        print("nothing is due")


def scheduler_loop(db: Path | str, stop: threading.Event, every_s: float = 30.0) -> None:
    """The service's scheduler thread: its own connection, one tick every `every_s`."""
    from central.storage.ledger import SqlLedger

    while True:  # the database may be down when central starts
        try:
            ledger = SqlLedger(db)
            break
        except DatabaseError as exc:
            log.error("the scheduler cannot open the ledger: %s", exc)
            if stop.wait(every_s):
                return
    scheduler = Scheduler(ledger, all_jobs)
    try:
        while True:
            try:
                scheduler.tick()
            except (ScheduleError, MembershipError, StorageError, DatabaseError) as exc:
                log.error("the scheduler cannot run: %s", exc)
            if stop.wait(every_s):
                return
    finally:
        ledger.close()
