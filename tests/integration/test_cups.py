"""A real CUPS scheduler in front of the simulator: print-through and the hold queue.

CUPS is the outside peer here: its ipp backend speaks to the simulator exactly as it
would to an MFD, and its hold queue is what the agent lists and releases.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter

from simulator.client import SimClient
from tests.cups import Cupsd, ipptool
from tests.helpers import SimHandle
from tests.integration.conftest import AddQueue
from tests.ippeveprinter import IppEvePrinter

PENDING_HELD, COMPLETED = 4, 9
_REQUEST_ID = re.compile(r"request id is (\S+)-(\d+)")


def write_pdf(path: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    with path.open("wb") as f:
        writer.write(f)
    return path


def submit(cupsd: Cupsd, queue: str, pdf: Path, user: str, *extra: str) -> int:
    """`lp` the file as `user`; return CUPS's job id."""
    out = cupsd.run("lp", "-h", cupsd.host, "-U", user, "-d", queue, "-t", pdf.name,
                    *extra, str(pdf))
    match = _REQUEST_ID.search(out)
    assert match, f"lp did not print a request id: {out!r}"
    return int(match.group(2))


def cups_job(cupsd: Cupsd, queue_uri: str, job_id: int) -> dict[str, Any]:
    (job,) = ipptool(queue_uri, "Get-Job-Attributes", f"integer job-id {job_id}",
                     "keyword requested-attributes job-id,job-state,job-state-reasons,"
                     "job-originating-user-name,job-impressions-completed")
    return job


def wait_cups_job(cupsd: Cupsd, queue_uri: str, job_id: int, state: int,
                  timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = cups_job(cupsd, queue_uri, job_id)
        if job["job-state"] == state:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"CUPS job {job_id} stuck in {job}\n{cupsd.diagnose()}")
        time.sleep(0.05)


def ipp_jobs(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in state["jobs"] if j["origin"] == "ipp"]


@pytest.mark.parametrize("model", ["everywhere", "raw"])
def test_cups_prints_pdf_through_to_simulator(cupsd: Cupsd, cups_queue: AddQueue,
                                              sim: SimHandle, sim_client: SimClient,
                                              tmp_path: Path, model: str) -> None:
    """IPP Everywhere (CUPS filters the PDF for the device) and raw (bytes as sent)."""
    queue = cups_queue(sim.ipp, model=model)
    pdf = write_pdf(tmp_path / "three-pages.pdf", 3)
    before = sim_client.counters()

    job_id = submit(cupsd, queue.name, pdf, "alice")
    wait_cups_job(cupsd, queue.uri, job_id, COMPLETED)

    state = sim_client.wait_for(
        lambda s: [j["state"] for j in ipp_jobs(s)] == ["completed"], what="one completed job")
    (job,) = ipp_jobs(state)
    assert job["printed"] == 3
    assert job["user"] == "alice"
    after = state["counters"]
    assert after["true_total"] - before["true_total"] == 3
    assert after["ipp_total"] - before["ipp_total"] == 3
    assert after["reported_life"] - before["reported_life"] == 3


def test_cups_hold_queue_holds_until_release(cupsd: Cupsd, cups_queue: AddQueue,
                                             sim: SimHandle, sim_client: SimClient,
                                             tmp_path: Path) -> None:
    # Raw: the hold semantics are under test here; the driverless path is tested above.
    queue = cups_queue(sim.ipp, hold=True, model="raw")
    pdf = write_pdf(tmp_path / "two-pages.pdf", 2)
    before = sim_client.counters()

    job_id = submit(cupsd, queue.name, pdf, "bob")
    held = wait_cups_job(cupsd, queue.uri, job_id, PENDING_HELD, timeout=10)
    assert "job-hold-until-specified" in str(held["job-state-reasons"])

    # The agent lists a user's held jobs with Get-Jobs filtered to that user.
    mine = ipptool(queue.uri, "Get-Jobs", "keyword which-jobs not-completed",
                   "boolean my-jobs true", "keyword requested-attributes job-id,job-state",
                   user="bob")
    assert [(j["job-id"], j["job-state"]) for j in mine] == [(job_id, PENDING_HELD)]
    others = ipptool(queue.uri, "Get-Jobs", "keyword which-jobs not-completed",
                     "boolean my-jobs true", user="carol")
    assert others == []
    # Held in CUPS means the backend never ran: the device has seen nothing.
    assert ipp_jobs(sim_client.state()) == []
    assert sim_client.counters()["true_total"] == before["true_total"]

    ipptool(queue.uri, "Release-Job", f"integer job-id {job_id}", user="bob")
    wait_cups_job(cupsd, queue.uri, job_id, COMPLETED)
    state = sim_client.wait_for(
        lambda s: [j["state"] for j in ipp_jobs(s)] == ["completed"], what="released job done")
    (job,) = ipp_jobs(state)
    assert (job["printed"], job["user"]) == (2, "bob")
    assert state["counters"]["true_total"] - before["true_total"] == 2


def test_cups_prints_to_ippeveprinter_reference(cupsd: Cupsd, cups_queue: AddQueue,
                                                ippeveprinter: IppEvePrinter,
                                                tmp_path: Path) -> None:
    """The reference peer the benchmark uses reports real page counts through CUPS too."""
    queue = cups_queue(ippeveprinter.uri)
    job_id = submit(cupsd, queue.name, write_pdf(tmp_path / "four.pdf", 4), "dave")
    job = wait_cups_job(cupsd, queue.uri, job_id, COMPLETED)
    assert job["job-originating-user-name"] == "dave"
    (remote,) = ipptool(ippeveprinter.uri, "Get-Jobs", "keyword which-jobs completed",
                        "keyword requested-attributes job-id,job-impressions-completed,"
                        "job-originating-user-name")
    assert (remote["job-impressions-completed"], remote["job-originating-user-name"]) == (4, "dave")
