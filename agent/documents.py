"""Pages of a job held in CUPS, counted from its documents (CUPS-Get-Document).

CUPS does not count the pages of a held job, and few clients send job-impressions, so
without this every CUPS job was priced at 0 and passed the credit check (issue 10). The
documents are read as the printer would read them (drivers.pagecount), once per job: the
count is kept by job-id and creation time, since CUPS reuses ids after its history is
cleared. A document is spooled to a temporary file past 1 MB, bounded in size and time, and
counted in a worker thread so that a large PDF does not stall the agent's event loop.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO

from drivers.ipp.client import IppClient, IppDocumentTooLarge, IppError, IppUnreachable
from drivers.ipp.models import JobInfo
from drivers.pagecount import CHUNK, count_pages_in

log = logging.getLogger("pagetally.documents")

LINES_PER_PAGE = 60
"""Plain text: lines on a page, as the simulator and CUPS's text filter print it."""
IN_MEMORY = 1 << 20
"""A document up to this size is spooled in memory, a larger one in a temporary file."""
KEEP = 256
"""Counts remembered: far more jobs than one user holds at once."""
PARALLEL = 2
"""Jobs read and counted at once: one downloads while another is counted."""
GZIP_MAGIC = b"\x1f\x8b"
"""CUPS keeps a document sent with compression=gzip (as CUPS itself forwards jobs) as it came."""

Key = tuple[int, datetime | None]


@dataclass(frozen=True)
class DocumentLimits:
    max_bytes: int = 64 * 2**20
    """Per job, after decompression; a larger job cannot be counted."""
    timeout_s: float = 30.0
    """Download and count together, per job."""


@dataclass(frozen=True)
class _Count:
    pages: int | None
    keep: bool
    """False when CUPS did not answer: ask again at the next listing rather than hold a
    deposit for the job for good."""


class DocumentPages:
    """Counts held CUPS jobs' pages from their documents, once per job."""

    def __init__(self, cups: IppClient, limits: DocumentLimits | None = None) -> None:
        self.cups = cups
        self.limits = limits or DocumentLimits()
        self._counts: OrderedDict[Key, asyncio.Task[_Count]] = OrderedDict()
        self._slots = asyncio.Semaphore(PARALLEL)

    async def pages(self, job: JobInfo) -> int | None:
        """Pages in one copy of the job, or None when its documents cannot be counted."""
        key = (job.id, job.created_at)
        task = self._counts.get(key)
        if task is None:
            task = asyncio.create_task(self._count(job), name=f"count-job-{job.id}")
            self._counts[key] = task
            while len(self._counts) > KEEP:
                self._counts.popitem(last=False)
        else:
            self._counts.move_to_end(key)
        # Shielded: a caller that gives up (the panel logged out) must not waste the count.
        count = await asyncio.shield(task)
        if not count.keep and self._counts.get(key) is task:
            del self._counts[key]
        return count.pages

    async def close(self) -> None:
        """Stop counts still running (at shutdown)."""
        tasks = [t for t in self._counts.values() if not t.done()]
        self._counts.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _count(self, job: JobInfo) -> _Count:
        started = time.monotonic()
        total, size = 0, 0
        limit = self.limits.max_bytes
        try:
            async with self._slots, asyncio.timeout(self.limits.timeout_s):
                for number in range(1, (job.documents or 1) + 1):
                    with SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
                        # Twice the budget: the outer timeout ends it first, as a final answer.
                        info = await self.cups.get_document(
                            job.id, spool, number=number, max_bytes=limit - size,
                            timeout=2 * self.limits.timeout_s)
                        size += info.size
                        pages = await asyncio.to_thread(count_spooled, spool, info.format,
                                                        limit - size)
                    if pages is None:
                        log.warning("job %d: document %d (%s, %d bytes) cannot be counted; "
                                    "the job holds a deposit", job.id, number, info.format,
                                    info.size)
                        return _Count(None, keep=True)
                    total += pages
        except TimeoutError:
            log.warning("job %d: its documents could not be read and counted within %g s; "
                        "the job holds a deposit", job.id, self.limits.timeout_s)
            return _Count(None, keep=True)
        except IppDocumentTooLarge as exc:
            log.warning("job %d: %s; the job holds a deposit", job.id, exc)
            return _Count(None, keep=True)
        except IppUnreachable as exc:
            log.warning("job %d: cannot read its document now (%s)", job.id, exc)
            return _Count(None, keep=False)
        except IppError as exc:
            log.warning("job %d: CUPS would not give its document (%s); the job holds a "
                        "deposit. Its policy must allow CUPS-Get-Document for the agent "
                        "(docs/config.md)", job.id, exc)
            return _Count(None, keep=True)
        log.info("job %d: %d page(s) a copy from %d byte(s), read and counted in %.0f ms",
                 job.id, total, size, 1000 * (time.monotonic() - started))
        return _Count(total, keep=True)


def count_spooled(spool: IO[bytes], document_format: str, max_bytes: int) -> int | None:
    """Pages of one copy of a spooled document, unpacking it first if it is gzip. Runs in a
    worker thread; a spool closed under it (the count timed out) counts as no answer."""
    try:
        spool.seek(0)
        if spool.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
            return count_pages_in(spool, document_format, LINES_PER_PAGE)
        with SpooledTemporaryFile(max_size=IN_MEMORY) as plain:
            if not _gunzip(spool, plain, max_bytes):
                return None
            return count_pages_in(plain, document_format, LINES_PER_PAGE)
    except ValueError:  # I/O on the closed spool
        return None


def _gunzip(packed: IO[bytes], into: IO[bytes], max_bytes: int) -> bool:
    """Unpack, stopping past max_bytes (a small file can unpack to gigabytes)."""
    packed.seek(0)
    size = 0
    try:
        with gzip.GzipFile(fileobj=packed, mode="rb") as unpacking:
            while block := unpacking.read(CHUNK):
                size += len(block)
                if size > max_bytes:
                    log.warning("a gzip document unpacks to more than %d bytes", max_bytes)
                    return False
                into.write(block)
    except (OSError, EOFError, zlib.error) as exc:
        log.warning("a gzip document is corrupt: %s", exc)
        return False
    return True
