"""Everything a page needs, in one object the app keeps: the stores, the clock, the policy.

Writes that move money go through `SqlLedger` and `central.admin` (one connection per
thread, as the ledger is single-writer by design); reads go through `PortalQueries`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from central.codes import CodeBook
from central.schedule import ScheduleError, zone
from central.scheduler import TIMEZONE_SETTING
from central.storage.ledger import SqlLedger
from central.storage.portal_accounts import PortalAccounts
from central.storage.portal_queries import PortalQueries
from central.web.auth import SignInPolicy
from central.web.devices import DeviceWatch

# Site settings of the portal, kept with the site's other settings in the ledger.
SHOW_BALANCE = "portal.show_balance"
SHOW_TRANSACTIONS = "portal.show_transactions"
SHOW_DEVICES = "portal.show_devices"
CODE_SELF_SERVICE = "portal.code_self_service"
PRINTER_URI = "portal.printer_uri"
PRINTER_NAME = "portal.printer_name"
PUBLIC_URL = "portal.public_url"
PORTAL_SETTINGS = {
    SHOW_BALANCE: "yes (default) or no: users see their balance",
    SHOW_TRANSACTIONS: "yes (default) or no: users see their last 100 transactions",
    SHOW_DEVICES: "yes (default) or no: users see 'Set up my devices'",
    CODE_SELF_SERVICE: "yes (default) or no: users may make themselves a new access code",
    PRINTER_URI: "the print queue users add, e.g. ipps://print.example.org/printers/pagetally",
    PRINTER_NAME: "the name users see for that queue (default PageTally)",
    PUBLIC_URL: "the portal's address as users reach it, for invite links and the QR code",
}
YES_NO = (SHOW_BALANCE, SHOW_TRANSACTIONS, SHOW_DEVICES, CODE_SELF_SERVICE)


@dataclass(frozen=True, slots=True)
class PortalSettings:
    show_balance: bool
    show_transactions: bool
    show_devices: bool
    code_self_service: bool
    printer_uri: str
    printer_name: str
    tz: ZoneInfo
    currency: str
    public_url: str


@dataclass
class Portal:
    ledger_url: str
    accounts: PortalAccounts
    queries: PortalQueries
    codes: CodeBook
    public_url: str = ""
    secure_cookies: bool = False
    policy: SignInPolicy = field(default_factory=SignInPolicy)
    clock: Callable[[], float] = time.time
    devices: DeviceWatch | None = None
    session_s: float = 12 * 3600
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @classmethod
    def open(cls, ledger_url: Path | str, portal_url: Path | str, secret_path: Path,
             **options: object) -> Portal:
        SqlLedger(ledger_url).close()  # create and migrate before reading it read-only
        return cls(str(ledger_url), PortalAccounts(portal_url), PortalQueries(ledger_url),
                   CodeBook.from_file(secret_path), **options)  # type: ignore[arg-type]

    def ledger(self) -> SqlLedger:
        """This thread's writing connection to the ledger."""
        found = getattr(self._local, "ledger", None)
        if found is None:
            found = self._local.ledger = SqlLedger(self.ledger_url)
        return found

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def settings(self) -> PortalSettings:
        q = self.queries
        yes = {key: (q.setting(key) or "yes") != "no" for key in YES_NO}
        try:
            tz = zone(q.setting(TIMEZONE_SETTING) or "UTC")
        except ScheduleError:
            tz = ZoneInfo("UTC")
        return PortalSettings(yes[SHOW_BALANCE], yes[SHOW_TRANSACTIONS], yes[SHOW_DEVICES],
                              yes[CODE_SELF_SERVICE], q.setting(PRINTER_URI) or "",
                              q.setting(PRINTER_NAME) or "PageTally", tz, q.currency(),
                              self.public_url or q.setting(PUBLIC_URL) or "")
