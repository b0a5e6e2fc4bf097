"""A membership source from a file, for sites without a membership system.

CSV (one member a line) or JSON (`{"companies": [...], "members": [...]}`), read whole and
checked whole: a bad line is named with its number and nothing is synced. Fees are appended,
one JSON object a line and fsynced, to a fees file the site's billing picks up; the fee run
finds a fee again by its reference in that file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from central.members.source import Company, Directory, FeeRequest, Member, MembershipError

CSV_COLUMNS = ("id", "name", "email", "company_id", "company", "status", "location", "plans",
               "tags")


def _split(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.replace("|", ";").split(";") if t.strip())


def parse_csv(text: str) -> Directory:
    try:
        return _parse_csv(text)
    except csv.Error as exc:  # a NUL byte, a bare carriage return inside a field...
        raise MembershipError(f"the members CSV cannot be read: {exc}") from None


def _parse_csv(text: str) -> Directory:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"id", "email"} <= set(reader.fieldnames):
        raise MembershipError("the members CSV needs a header line with at least 'id' and"
                              f" 'email' columns (known columns: {', '.join(CSV_COLUMNS)})")
    companies: dict[str, Company] = {}
    members, errors = [], []
    for line, row in enumerate(reader, start=2):
        get = lambda key, r=row: (r.get(key) or "").strip()  # noqa: E731
        if not get("id") or not get("email"):
            errors.append(f"line {line}: the id and the email must not be empty")
            continue
        company = get("company_id") or None
        if company:
            companies.setdefault(company, Company(company, get("company") or company))
        members.append(Member(get("id"), get("name") or get("email"), get("email"), company,
                              get("status") or "active", get("location") or None,
                              _split(get("plans")), _split(get("tags"))))
    if errors:
        raise MembershipError("the members file was not used:\n  " + "\n  ".join(errors[:20]))
    return Directory(list(companies.values()), members)


def _text(item: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise MembershipError(f"{where}: '{key}' is missing")
        return None
    if not isinstance(value, str | int):
        raise MembershipError(f"{where}: '{key}' must be text")
    return str(value)


def _texts(item: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MembershipError(f"{where}: '{key}' must be a list of text")
    return tuple(value)


def parse_json(text: str) -> Directory:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MembershipError(f"the members file is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("members"), list):
        raise MembershipError('the members JSON must be an object with a "members" list')
    raw_companies = data.get("companies") or []
    if not isinstance(raw_companies, list):
        raise MembershipError('"companies" must be a list')
    companies = []
    for n, item in enumerate(raw_companies, start=1):
        where = f"company {n}"
        if not isinstance(item, dict):
            raise MembershipError(f"{where} is not an object")
        cid = _text(item, "id", where, required=True)
        assert cid is not None
        companies.append(Company(cid, _text(item, "name", where) or cid))
    members = []
    for n, item in enumerate(data["members"], start=1):
        where = f"member {n}"
        if not isinstance(item, dict):
            raise MembershipError(f"{where} is not an object")
        mid = _text(item, "id", where, required=True)
        email = _text(item, "email", where, required=True)
        assert mid is not None and email is not None
        members.append(Member(mid, _text(item, "name", where) or email, email,
                              _text(item, "company", where),
                              _text(item, "status", where) or "active",
                              _text(item, "location", where), _texts(item, "plans", where),
                              _texts(item, "tags", where)))
    return Directory(companies, members)


def parse_members(data: bytes, name: str) -> Directory:
    """A file's bytes as a directory; JSON if the name ends in .json, CSV otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MembershipError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    return parse_json(text) if name.lower().endswith(".json") else parse_csv(text)


class FileSource:
    key = "file"

    def __init__(self, members_path: Path, fees_path: Path) -> None:
        self.members_path, self.fees_path = members_path, fees_path

    def directory(self) -> Directory:
        try:
            data = self.members_path.read_bytes()
        except OSError as exc:
            raise MembershipError(f"cannot read the members file {self.members_path}:"
                                  f" {exc.strerror}") from None
        return parse_members(data, self.members_path.name)

    def create_fee(self, fee: FeeRequest) -> str:
        line = json.dumps({"id": fee.reference, "member": fee.member_id, "amount": fee.amount,
                           "currency": fee.currency, "date": fee.day.isoformat(),
                           "name": fee.name, "company": fee.company_id})
        with self.fees_path.open("a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        return fee.reference

    def find_fee(self, member_id: str, reference: str) -> str | None:
        if not self.fees_path.exists():
            return None
        for line in self.fees_path.read_text().splitlines():
            try:
                fee = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that fee was not booked
            if fee.get("id") == reference and fee.get("member") == member_id:
                return reference
        return None
