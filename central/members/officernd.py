"""OfficeRnD (API v2) as a membership source: members, companies and fees.

From its public reference: an application's client id and secret are exchanged at the
identity server for a bearer token (OAuth 2.0 client credentials, valid about an hour);
list endpoints under `/api/v2/organizations/{org}/` return `{results, cursorNext}` pages of
at most 50, fetched with `$limit` and `$cursorNext`; too many requests get 429 with
`Retry-After`. This client refreshes the token before it expires and again on a 401, waits
out 429s, retries 5xx and lost connections with backoff, and never books a fee twice: before
it retries a fee whose answer was lost, it looks for the fee by its reference.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from central.members.http import Answer, HttpFailure, JsonHttp
from central.members.source import Company, Directory, FeeRequest, Member, MembershipError
from contract.money import format_money

PAGE = 50
SCOPES = ("flex.community.members.read flex.community.companies.read"
          " flex.community.fees.read flex.community.fees.create")


@dataclass(frozen=True)
class OfficeRnDSettings:
    org: str
    client_id: str
    client_secret: str
    api_url: str = "https://app.officernd.com"
    identity_url: str = "https://identity.officernd.com"
    attempts: int = 6
    max_wait_s: float = 60.0


class OfficeRnD:
    """Blocking client; one kept-alive connection to each of the API and identity servers."""

    def __init__(self, settings: OfficeRnDSettings,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.key = f"officernd:{settings.org}"
        self._api = JsonHttp(settings.api_url)
        self._identity = JsonHttp(settings.identity_url)
        self._sleep, self._clock = sleep, clock
        self._token: str | None = None
        self._token_until = 0.0
        self.waited_s = 0.0

    def close(self) -> None:
        self._api.close()
        self._identity.close()

    # the token ----------------------------------------------------------------------------

    def _bearer(self) -> str:
        if self._token is None or self._clock() >= self._token_until:
            answer = self._send(self._identity, "POST", "/oauth/token", auth=False, form={
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret,
                "grant_type": "client_credentials", "scope": SCOPES})
            if answer.status in (400, 401, 403):
                raise MembershipError(
                    "OfficeRnD refused the application's client id or secret"
                    f" ({answer.status} from {self.settings.identity_url}/oauth/token); check"
                    " them in OfficeRnD under Settings, Developer tools")
            self._check(answer, "getting a token")
            body = answer.body if isinstance(answer.body, dict) else {}
            if not isinstance(body.get("access_token"), str):
                raise MembershipError("OfficeRnD's token answer had no access_token")
            lifetime = float(body.get("expires_in", 3600))
            self._token = body["access_token"]
            self._token_until = self._clock() + max(0.0, lifetime - 60)  # renew a minute early
        return self._token

    # requests with retries ----------------------------------------------------------------

    def _send(self, http: JsonHttp, method: str, path: str, *, auth: bool = True,
              idempotent: bool = True, **kw: Any) -> Answer:
        """One request, retried on 429 (as told: the request was not processed), once with a
        fresh token on 401, and, if `idempotent`, on 5xx and lost connections with backoff.
        A request that is not idempotent gets its 5xx back and its lost connection raised
        (HttpFailure): whether it happened is for the caller to find out."""
        refreshed = False
        for attempt in range(1, self.settings.attempts + 1):
            headers = {"Authorization": f"Bearer {self._bearer()}"} if auth else {}
            try:
                answer = http.request(method, path, headers=headers, **kw)
            except HttpFailure as exc:
                if not idempotent:
                    raise
                if attempt == self.settings.attempts:
                    raise MembershipError(f"could not reach OfficeRnD at {http.base}"
                                          f" ({exc}) after {attempt} tries") from None
                self._wait(min(2.0 ** (attempt - 1) * 0.5, self.settings.max_wait_s))
                continue
            if answer.status == 401 and auth and not refreshed:
                self._token, refreshed = None, True  # expired early or revoked: once more
                continue
            if answer.status == 429 or (answer.status >= 500 and idempotent):
                if attempt == self.settings.attempts:
                    return answer
                self._wait(self._retry_after(answer, attempt))
                continue
            return answer
        raise AssertionError("the loop returns or raises")  # pragma: no cover

    def _retry_after(self, answer: Answer, attempt: int) -> float:
        value = answer.headers.get("retry-after")
        if value is not None:
            if value.strip().isdigit():
                return min(float(value), self.settings.max_wait_s)
            when = email.utils.parsedate_to_datetime(value)
            seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
            return min(max(0.0, seconds), self.settings.max_wait_s)
        return min(2.0 ** (attempt - 1) * 0.5, self.settings.max_wait_s)

    def _wait(self, seconds: float) -> None:
        self.waited_s += seconds
        self._sleep(seconds)

    def _check(self, answer: Answer, doing: str) -> None:
        status = answer.status
        if 200 <= status < 300:
            return
        detail = answer.body.get("message", "") if isinstance(answer.body, dict) else ""
        detail = f": {detail}" if detail else ""
        if status == 401:
            raise MembershipError(f"OfficeRnD refused our token while {doing} (401){detail}")
        if status == 403:
            raise MembershipError(f"OfficeRnD says the application may not do this while"
                                  f" {doing} (403){detail}; give it the scopes {SCOPES}")
        if status == 404:
            raise MembershipError(f"OfficeRnD does not know the organisation"
                                  f" {self.settings.org!r} (404 while {doing}); check the"
                                  " slug under Settings, My Account")
        if status == 429:
            raise MembershipError(f"OfficeRnD kept asking us to slow down (429) while {doing},"
                                  f" {self.settings.attempts} tries; try again later")
        if status >= 500:
            raise MembershipError(f"OfficeRnD had a server error ({status}) while {doing},"
                                  f" {self.settings.attempts} tries; try again later")
        raise MembershipError(f"OfficeRnD answered {status} while {doing}{detail}")

    def _path(self, what: str) -> str:
        return f"/api/v2/organizations/{self.settings.org}/{what}"

    def _pages(self, what: str, query: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params = {"$limit": str(PAGE), **(query or {})}
            if cursor:
                params["$cursorNext"] = cursor
            answer = self._send(self._api, "GET", self._path(what), query=params)
            self._check(answer, f"listing {what}")
            body = answer.body if isinstance(answer.body, dict) else {}
            results = body.get("results")
            if not isinstance(results, list):
                raise MembershipError(f"OfficeRnD's {what} page had no results list")
            yield from (r for r in results if isinstance(r, dict))
            cursor = body.get("cursorNext")
            if not cursor:
                return

    # the source interface -----------------------------------------------------------------

    def directory(self) -> Directory:
        companies = [Company(str(c["_id"]), str(c.get("name") or c["_id"]))
                     for c in self._pages("companies") if "_id" in c]
        members = [_member(m) for m in self._pages("members") if "_id" in m]
        return Directory(companies, members)

    def create_fee(self, fee: FeeRequest) -> str:
        body = {"name": f"{fee.name} {fee.reference}", "quantity": 1,
                "price": _price(fee.amount, fee.currency),
                "date": fee.day.isoformat(), "member": fee.member_id}
        if fee.company_id:
            body["company"] = fee.company_id
        for attempt in range(1, self.settings.attempts + 1):
            try:
                answer: Answer | None = self._send(self._api, "POST", self._path("fees"),
                                                   json_body=body, idempotent=False)
            except HttpFailure:
                answer = None
            if answer is not None and answer.status < 500:
                self._check(answer, "creating a fee")
                fee_id = answer.body.get("_id") if isinstance(answer.body, dict) else None
                if not fee_id:
                    raise MembershipError("OfficeRnD created a fee but did not say its id")
                return str(fee_id)
            # No answer, or a server error: the fee may be booked all the same. Look first.
            found = self.find_fee(fee.member_id, fee.reference)
            if found:
                return found
            if attempt < self.settings.attempts:
                self._wait(min(2.0 ** (attempt - 1) * 0.5, self.settings.max_wait_s))
        raise MembershipError(f"OfficeRnD did not book the fee {fee.reference} after"
                              f" {self.settings.attempts} tries; the fee run tries again"
                              " next time")

    def find_fee(self, member_id: str, reference: str) -> str | None:
        for fee in self._pages("fees", {"member": member_id}):
            if reference in str(fee.get("name", "")):
                return str(fee["_id"])
        return None


def _price(minor: int, currency: str) -> int | float:
    """A JSON number for minor units: exact, since a float's repr of a short decimal is it."""
    value = Decimal(format_money(minor, currency))
    return int(value) if value == value.to_integral_value() else float(value)


def _ref(value: object) -> str | None:
    """An id given as a string, or as an object with `_id`."""
    if isinstance(value, dict):
        value = value.get("_id")
    return str(value) if value else None


def _member(raw: dict[str, Any]) -> Member:
    """A member record as the API gives it; fields of an unexpected type count as absent."""
    tags = raw.get("tags")
    tags = tags if isinstance(tags, list) else []
    return Member(str(raw["_id"]), str(raw.get("name") or ""), str(raw.get("email") or ""),
                  _ref(raw.get("company")), str(raw.get("status") or "active"),
                  _ref(raw.get("location")), (),
                  tuple(str(t) for t in tags if isinstance(t, str)))
