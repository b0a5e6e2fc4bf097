"""Admin operations behind `pagetally central ...`: accounts, codes, cards, money, reports.

Every money change is a posting (type "adjustment" or "refund") with its origin ("admin",
"import" or "refund"), applied once by its id in the same ledger as the devices' txns, so a
balance always equals the sum of its rows, and none of them poses as a device.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import uuid6

from central.codes import CodeBook, check_code, check_pin, generate_code, normalise_card
from central.money import MoneyError, format_money, parse_money
from central.storage.base import Account, ApplyResult, Ledger, StorageError, TxnRecord
from central.storage.records import Origin, Posting, PostingType

EXPORT_COLUMNS = ("txn_id", "date", "username", "transacted_by", "type", "system_note",
                  "comment", "amount", "balance", "site", "device", "job_id", "refund_of",
                  "origin")


class AdminError(Exception):
    """An admin command that cannot be done, in plain words."""


def operator() -> str:
    return f"admin:{getpass.getuser()}"


def post(ledger: Ledger, user: str, type_: PostingType, amount: int, *, note: str,
         comment: str, origin: Origin = "admin", job_json: str | None = None,
         refund_of: str | None = None, by: str | None = None) -> ApplyResult:
    """`by` is who did it (default: this OS user, for the CLI; the portal names its admin)."""
    posting = Posting(str(uuid.UUID(str(uuid6.uuid7()))), user, amount, origin, by or operator(),
                      note, comment, type=type_, occurred_at=dt.datetime.now(dt.UTC),
                      job_json=job_json, refund_of=refund_of)
    result = ledger.post([posting])[0]
    if result.status != "applied":
        raise AdminError(result.reason or f"the ledger answered {result.status}")
    return result


def add_user(ledger: Ledger, username: str, display_name: str, balance: int, *,
             restricted: bool, credit_limit: int, groups: Sequence[str],
             origin: Origin = "admin") -> Account:
    try:
        ledger.add_account(username, display_name or username, restricted=restricted,
                           credit_limit=credit_limit, groups=groups)
    except StorageError as exc:
        raise AdminError(str(exc)) from None
    if balance:
        post(ledger, username, "adjustment", balance, note="Initial balance", comment="",
             origin=origin)
    account = ledger.get_account(username)
    assert account is not None
    return account


@dataclass
class ImportRow:
    line: int
    username: str
    display_name: str
    balance: int
    groups: list[str]
    restricted: bool | None
    credit_limit: int | None
    card: str | None
    present: frozenset[str]


def _bool(text: str) -> bool | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in {"1", "true", "yes", "y"}:
        return True
    if value in {"0", "false", "no", "n"}:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def read_import(stream: TextIO, currency: str = "EUR") -> list[ImportRow]:
    """Parse and check the whole file first, so a bad line changes nothing."""
    reader = csv.DictReader(stream)
    if not reader.fieldnames or "username" not in reader.fieldnames:
        raise AdminError("the CSV needs a header line with at least a 'username' column")
    rows, errors = [], []
    for line, raw in enumerate(reader, start=2):
        get = lambda key, r=raw: (r.get(key) or "").strip()  # noqa: E731
        try:
            if not get("username"):
                raise ValueError("the username is empty")
            card = normalise_card(get("card")) if get("card") else None
            rows.append(ImportRow(line, get("username"), get("display_name"),
                                  parse_money(get("balance") or "0", currency),
                                  [g for g in get("groups").replace("|", ";").split(";") if g],
                                  _bool(get("restricted")),
                                  parse_money(get("credit_limit"), currency)
                                  if get("credit_limit")
                                  else None, card, frozenset(k for k, v in raw.items() if v)))
        except (ValueError, MoneyError) as exc:
            errors.append(f"line {line}: {exc}")
    if errors:
        raise AdminError("nothing was imported:\n  " + "\n  ".join(errors))
    return rows


def import_users(ledger: Ledger, stream: TextIO) -> tuple[int, int]:
    """Create new users (balance as an initial adjustment); update known ones.

    For a known user only the columns given are changed, and the balance column is ignored:
    money moves only through `balance adjust`, so the ledger keeps its history.
    """
    created = updated = 0
    for row in read_import(stream, ledger.currency):
        if ledger.get_account(row.username) is None:
            add_user(ledger, row.username, row.display_name, row.balance,
                     restricted=row.restricted is not False,
                     credit_limit=row.credit_limit or 0, groups=row.groups, origin="import")
            created += 1
        else:
            ledger.update_account(row.username, display_name=row.display_name or None,
                                  restricted=row.restricted, credit_limit=row.credit_limit,
                                  groups=row.groups if "groups" in row.present else None)
            updated += 1
        if row.card:
            add_card(ledger, row.username, row.card)
    return created, updated


def set_code(ledger: Ledger, codes: CodeBook, username: str, code: str | None) -> str:
    """Set (or generate) a user's code; the caller shows it once, nothing keeps it."""
    for _ in range(20):
        candidate = check_code(code) if code else generate_code()
        try:
            ledger.set_code(username, codes.lookup_tag(candidate), codes.hash(candidate))
            return candidate
        except StorageError as exc:
            if code or "already in use" not in str(exc):
                raise AdminError(str(exc)) from None
    raise AdminError("could not find a free code; try again")


def set_pin(ledger: Ledger, codes: CodeBook, username: str, pin: str | None) -> str:
    """Set (or generate) the PIN a user types after their card; shown once, kept as a hash."""
    chosen = check_pin(pin) if pin else generate_code(4)
    try:
        ledger.set_pin(username, codes.hash_pin(chosen))
    except StorageError as exc:
        raise AdminError(str(exc)) from None
    return chosen


def add_card(ledger: Ledger, username: str, card: str) -> str:
    number = normalise_card(card)
    try:
        ledger.add_card(username, number)
    except StorageError as exc:
        raise AdminError(str(exc)) from None
    return number


def refund_txn(ledger: Ledger, txn_id: str, comment: str, by: str | None = None
               ) -> ApplyResult:
    original = ledger.get_txn(txn_id)
    if original is None:
        raise AdminError(f"there is no transaction {txn_id}")
    if original.amount >= 0:
        raise AdminError(f"transaction {txn_id} is a {original.type} of"
                         f" {format_money(original.amount, ledger.currency)}, not a charge;"
                         " nothing to refund")
    left = -original.amount - sum(r.amount for r in ledger.refunds_of(txn_id))
    if left <= 0:
        raise AdminError(f"transaction {txn_id} is already refunded in full")
    return post(ledger, original.username, "refund", left, job_json=original.job_json,
                refund_of=txn_id, origin="refund", by=by,
                note=f"Refund of {original.type} charge {txn_id}", comment=comment)


def refund_job(ledger: Ledger, job_id: str, comment: str) -> ApplyResult:
    records = ledger.txns_for_job(job_id)
    if not records:
        raise AdminError(f"no transaction mentions job {job_id}")
    users = {r.username for r in records}
    if len(users) > 1:
        raise AdminError(f"job {job_id} was charged to several users ({', '.join(users)});"
                         " refund its transactions one by one")
    net = sum(r.amount for r in records)
    if net >= 0:
        raise AdminError(f"job {job_id} has nothing left to refund"
                         f" (net {format_money(net, ledger.currency)})")
    return post(ledger, records[0].username, "refund", -net, job_json=records[0].job_json,
                origin="refund", note=f"Refund of job {job_id}", comment=comment)


def show(ledger: Ledger, username: str, out: TextIO, limit: int = 100) -> None:
    account = ledger.get_account(username)
    if account is None:
        raise AdminError(f"there is no user {username!r}")
    cur = ledger.currency
    limit_text = ("unrestricted" if not account.restricted
                  else f"restricted, credit limit {format_money(account.credit_limit, cur)}")
    out.write(f"{account.username} ({account.display_name}): balance"
              f" {format_money(account.balance, cur)} {cur}, {limit_text}, groups:"
              f" {', '.join(account.groups) or '-'}\n")
    out.write(f"{'date':<20} {'transacted by':<16} {'type':<10} {'amount':>10} {'balance':>10}"
              "  system note / comment\n")
    for r in ledger.transactions(username, limit=limit):
        out.write(f"{r.occurred_at:%Y-%m-%d %H:%M:%S} {r.transacted_by[:16]:<16} {r.type:<10}"
                  f" {format_money(r.amount, cur):>10} {format_money(r.balance_after, cur):>10}"
                  f"  {r.system_note}{' / ' + r.comment if r.comment else ''}\n")


def export_row(r: TxnRecord) -> list[str]:
    return [r.txn_id, r.occurred_at.isoformat().replace("+00:00", "Z"), r.username,
            r.transacted_by, r.type, r.system_note, r.comment, format_money(r.amount, r.currency),
            format_money(r.balance_after, r.currency), r.site, r.device, r.job_id or "",
            r.refund_of or "", r.origin]


def export_csv(ledger: Ledger, path: Path) -> int:
    count = 0
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(EXPORT_COLUMNS)
        for record in ledger.all_transactions():
            writer.writerow(export_row(record))
            count += 1
    return count
