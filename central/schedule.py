"""When a scheduled run is due: the latest occurrence at or before now, on the site's clock.

Pure functions of (spec, now, time zone), so tests move a controlled clock across time zones
and daylight-saving changes. A run's key names what it is and the local day it is for, so
each occurrence has exactly one key: a wall time that happens twice (the autumn change) is
still one day and one run, and one that never happens (the spring change) runs at the
instant the clocks skip to. Only the LATEST occurrence is ever due, so after downtime the
missed runs catch up once, not once per missed period.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from central.storage.records import Period

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
LAST_DAY = 31


class ScheduleError(ValueError):
    """A schedule that cannot be read, in plain words."""


@dataclass(frozen=True, slots=True)
class Spec:
    """Daily, weekly (on `weekday`, 0 = Monday) or monthly (on `monthday`; 31 = the last day)."""

    period: Period
    at: str = "00:00"
    weekday: int = 0
    monthday: int = 1

    def __post_init__(self) -> None:
        check_time(self.at)
        if self.period not in ("daily", "weekly", "monthly"):
            raise ScheduleError(f"{self.period!r} is not a period: use daily, weekly or monthly")
        if not 0 <= self.weekday <= 6:
            raise ScheduleError("the weekday is 0 (Monday) to 6 (Sunday)")
        if not (1 <= self.monthday <= 28 or self.monthday == LAST_DAY):
            raise ScheduleError("the day of the month is 1 to 28, or 31 for the last day")


@dataclass(frozen=True, slots=True)
class Due:
    """One occurrence: its local day (which names the run) and the instant it fell due."""

    day: dt.date
    at: dt.datetime

    def key(self, what: str) -> str:
        return f"{what}:{self.day.isoformat()}"


def check_time(text: str) -> tuple[int, int]:
    m = _HHMM.fullmatch(text)
    if not m:
        raise ScheduleError(f"{text!r} is not a time of day: write it as HH:MM, like 07:30")
    return int(m.group(1)), int(m.group(2))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{name!r} is not a time zone: use a name like Europe/Berlin"
                            " or UTC") from None


def wall_instant(day: dt.date, at: str, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall time: the first of two (autumn), the skipped-to one (spring)."""
    hour, minute = check_time(at)
    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    return local.astimezone(dt.UTC)


def _day_of(spec: Spec, year: int, month: int) -> dt.date:
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(spec.monthday, last))


def _candidate(spec: Spec, local_today: dt.date, back: int) -> dt.date:
    """The `back`-th occurrence day counting back from today's (0 = this period's)."""
    if spec.period == "daily":
        return local_today - dt.timedelta(days=back)
    if spec.period == "weekly":
        this_week = local_today - dt.timedelta(days=(local_today.weekday() - spec.weekday) % 7)
        return this_week - dt.timedelta(weeks=back)
    months = local_today.year * 12 + local_today.month - 1 - back
    return _day_of(spec, months // 12, months % 12 + 1)


def latest_due(spec: Spec, now: dt.datetime, tz: ZoneInfo,
               not_before: dt.datetime | None = None) -> Due | None:
    """The latest occurrence at or before `now`, or None (none since `not_before`)."""
    local_today = now.astimezone(tz).date()
    for back in range(3):
        day = _candidate(spec, local_today, back)
        at = wall_instant(day, spec.at, tz)
        if at <= now:
            if not_before is not None and at < not_before:
                return None
            return Due(day, at)
    raise AssertionError("an occurrence is always found within three periods")
