"""Property tests of the interleave check's pure core: one page of completed jobs is enough
on a printer that lists them newest first, and never wrongly clean on one that does not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.metering.history import window_evidence
from drivers.ipp.models import JobInfo, JobState

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DS = timedelta(milliseconds=100)  # IPP dateTime resolution: device times are whole ds
MARKER = "or more device jobs ended since this job started"


def job(job_id: int, start: int | None, end: int | None, pages: int | None) -> JobInfo:
    return JobInfo(
        id=job_id, name="Copy", user="u",
        state=JobState.COMPLETED if end is not None else JobState.PROCESSING,
        state_reasons=(), impressions=pages, impressions_completed=pages,
        sheets_completed=pages, copies=1, sides="one-sided", color=False, media=None,
        hold_until=None, created_at=None,
        processing_at=None if start is None else BASE + start * DS,
        completed_at=None if end is None else BASE + end * DS)


@dataclass
class Case:
    active: list[JobInfo]
    completed: list[JobInfo]  # in no particular order
    own: int
    since: datetime
    until: datetime
    size: int

    def expected(self) -> set[str]:
        """The window check over the whole history, as the spec states it."""
        since = self.since.replace(microsecond=self.since.microsecond // 100_000 * 100_000)
        out = set()
        for j in [*self.active, *self.completed]:
            if j.id == self.own or j.processing_at is None or j.impressions_completed == 0:
                continue  # a job that printed nothing; one that does not say may have
            ended = j.completed_at or self.until
            if j.processing_at <= self.until and ended >= since:
                pages = j.impressions_completed
                out.add(f"{j.name} #{j.id} "
                        f"({'pages not reported' if pages is None else f'{pages} pages'})")
        return out

    def newest_first(self, order: list[int]) -> list[JobInfo]:
        """Conformant listing: newest completion first; ties in the order given."""
        tied = [self.completed[i] for i in order]
        return sorted(tied, key=lambda j: j.completed_at or BASE, reverse=True)[:self.size]

    def oldest_first(self, order: list[int]) -> list[JobInfo]:
        tied = [self.completed[i] for i in order]
        return sorted(tied, key=lambda j: j.completed_at or BASE)[:self.size]

    def check(self, page: list[JobInfo]) -> list[str] | None:
        return window_evidence(self.active, page, self.own, self.since, self.until, self.size)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, list[int]]:
    window_start = draw(st.integers(0, 60))  # in ds after BASE
    since = BASE + window_start * DS + timedelta(microseconds=draw(st.integers(0, 99_999)))
    length = draw(st.integers(1, 30))
    until = since + length * DS
    own_start = window_start + draw(st.integers(1, length))
    own_end = draw(st.integers(own_start, window_start + length))
    completed = [job(1, own_start, own_end, 3)]
    active = []
    spans = draw(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 20),
                                    st.none() | st.integers(0, 3),
                                    st.sampled_from(["done", "live", "never-started"])),
                          max_size=25))
    for job_id, (start, took, pages, kind) in enumerate(spans, start=2):
        if kind == "live":
            active.append(job(job_id, start, None, pages))
        elif kind == "never-started":
            completed.append(job(job_id, None, start, 0))
        else:
            completed.append(job(job_id, start, start + took, pages))
    order = draw(st.permutations(range(len(completed))))
    return Case(active, completed, 1, since, until, draw(st.integers(1, 8))), list(order)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_newest_first_page_is_exact_or_says_it_cannot_tell(drawn: tuple[Case, list[int]]
                                                           ) -> None:
    case, order = drawn
    page = case.newest_first(order)
    found = case.check(page)
    assert found is not None  # a conformant printer is never read whole
    notes = [f for f in found if MARKER in f]
    if notes:
        since = case.since.replace(microsecond=case.since.microsecond // 100_000 * 100_000)
        ended_since = [j for j in case.completed if j.completed_at and j.completed_at >= since]
        assert len(page) == case.size and len(ended_since) >= case.size
    else:
        assert set(found) == case.expected()


@settings(max_examples=400, deadline=None)
@given(cases())
def test_oldest_first_page_is_never_wrongly_clean(drawn: tuple[Case, list[int]]) -> None:
    case, order = drawn
    page = case.oldest_first(order)
    found = case.check(page)
    if found is None:  # the agent then reads the whole history
        return
    if not any(MARKER in f for f in found):
        assert set(found) == case.expected()
    if len(page) == case.size and len(case.completed) > case.size:
        assert found is None or any(MARKER in f for f in found)
    if len(page) == case.size and len({j.completed_at for j in page}) > 1:
        assert found is None  # times rise: read the whole history rather than give up


def test_copy_ending_in_the_decisecond_the_window_opened_counts() -> None:
    since = BASE + 10 * DS + timedelta(milliseconds=70)
    copy = job(2, 8, 10, 2)  # ended at 10 ds, 70 ms before `since`, same decisecond
    own = job(1, 11, 15, 1)
    found = window_evidence([], [own, copy], 1, since, BASE + 20 * DS, 50)
    assert found == ["Copy #2 (2 pages)"]
