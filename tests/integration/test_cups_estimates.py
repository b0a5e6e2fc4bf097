"""Jobs held in CUPS are priced from their documents, and the credit check holds them to it.

Found in a chaos run (issue 10): CUPS counts no pages of a held job, so `jobs.list` showed
`pages: null, estimate: 0`, every job passed the credit check, and a restricted user ended
below zero. Real parts only: a private cupsd holding real PDFs for the simulator, and the
agent process on its API.
"""

from __future__ import annotations

import pytest

from agent.api.client import ApiError
from drivers.ipp.client import IppClient
from tests.agent_env import AgentEnv, agent_toml, make_env
from tests.data.ipp_samples import pdf
from tests.integration.conftest import AddQueue, CupsQueue

MONO, MONO_DUPLEX = 10, 7
"""Minor units per impression: one-sided, and each side of a two-sided sheet."""
DEPOSIT = 200
GARBAGE = bytes(range(256)) * 8
"""No format anyone can count: CUPS types it application/octet-stream."""


def start(env: AgentEnv, cups_queue: AddQueue, *, printer_extra: str = "") -> CupsQueue:
    """A CUPS queue holding jobs for the simulator, and the agent using it as its source,
    with a duplex price and a deposit for jobs that cannot be counted."""
    queue = cups_queue(env.sim.ipp, hold=True, model="raw")
    printer = (f'ipp_uri = "{env.sim.ipp}"\nsnmp_host = "127.0.0.1"\n'
               f'snmp_port = {env.sim.snmp_port}\nsnmp_profile = "pagetally-sim"\n'
               f'hold_source = "cups"\nhold_uri = "{queue.uri}"\n{printer_extra}')
    text = agent_toml(env.dir, env.sim, printer=printer)
    text = text.replace('mono_simplex = "0.10"\n', 'mono_simplex = "0.10"\nmono_duplex = "0.07"\n')
    text = text.replace("[prices.media.default]", '[prices]\nuncounted_deposit = "2.00"\n\n'
                                                  "[prices.media.default]")
    env.config_text = text
    env.start_agent()
    return queue


async def hold(queue: CupsQueue, user: str, name: str, data: bytes, *,
               fmt: str = "application/pdf", copies: int = 1, duplex: bool = False) -> int:
    """Print to the CUPS queue as a workstation does: no job-impressions, just the file."""
    async with IppClient(queue.uri) as cups:
        return await cups.print_job(data, name=name, user=user, document_format=fmt,
                                    copies=copies, hold=True,
                                    sides="two-sided-long-edge" if duplex else "one-sided")


async def test_counted_pages_price_the_job_and_deny_short_credit(
        cups_queue: AddQueue) -> None:
    env = make_env(start=False, ppm=6000)
    try:
        queue = start(env, cups_queue)
        thesis = await hold(queue, "alice", "thesis.pdf", pdf(5), copies=2, duplex=True)
        poster = await hold(queue, "bob", "poster.pdf", pdf(3), copies=2, duplex=True)
        async with env.client(login="alice") as api:
            [listed] = await api.call("jobs.list")
            assert await api.call("jobs.list") == [listed]  # counted once, below
            assert {k: listed[k] for k in ("id", "pages", "impressions", "copies", "duplex",
                                           "estimate", "estimate_text", "estimate_kind")} == {
                "id": thesis, "pages": 5, "impressions": 10, "copies": 2, "duplex": True,
                "estimate": 10 * MONO_DUPLEX, "estimate_text": "0.70",
                "estimate_kind": "counted"}
            [ticket] = await api.call("jobs.release", {"ids": [thesis]})
            assert ticket["estimate"] == 70
            result = await env.wait_result(api, ticket["job_key"])
        assert (result["printed"], result["charged"], result["refunded"]) == (10, 70, 0)
        assert env.agent is not None
        counted = [line for line in env.agent.output().splitlines()
                   if f"job {thesis}: 5 page(s) a copy" in line]
        assert len(counted) == 1, counted

        # bob has 0.40: 3 pages x 2 copies two-sided is 6 impressions at 0.07 = 0.42.
        async with env.client(login="bob") as api:
            [listed] = await api.call("jobs.list")
            assert (listed["pages"], listed["impressions"], listed["estimate"]) == (3, 6, 42)
            with pytest.raises(ApiError) as denied:
                await api.call("jobs.release", {"ids": [poster]})
        assert denied.value.kind == "denied"
        assert str(denied.value) == "Print denied: balance 0.40, job costs 0.42"
        async with IppClient(queue.uri) as cups:
            assert [j.id for j in await cups.held_jobs("bob")] == [poster]
        assert [j["name"] for j in env.sim_client.state()["jobs"]] == ["thesis.pdf"]
    finally:
        env.stop()


async def test_uncountable_jobs_hold_the_deposit(cups_queue: AddQueue) -> None:
    env = make_env(start=False, ppm=6000)
    try:
        queue = start(env, cups_queue, printer_extra="max_document_mb = 1\n")
        garbage = await hold(queue, "alice", "driver-output.prn", GARBAGE,
                             fmt="application/octet-stream")
        huge = await hold(queue, "alice", "log.txt", b"x" * 80 + b"\n" * (3 << 19),
                          fmt="text/plain")
        bobs = await hold(queue, "bob", "labels.prn", GARBAGE, fmt="application/octet-stream")
        async with env.client(login="alice") as api:
            listed = {job["id"]: job for job in await api.call("jobs.list")}
            for job_id in (garbage, huge):
                job = listed[job_id]
                assert (job["pages"], job["impressions"], job["estimate"],
                        job["estimate_text"], job["estimate_kind"]) == (
                    None, None, DEPOSIT, "2.00", "deposit"), job
            [ticket] = await api.call("jobs.release", {"ids": [garbage]})
            assert ticket["estimate"] == DEPOSIT
            status = await api.call("jobs.status", {"job_key": ticket["job_key"]})
            assert status["estimate"] == DEPOSIT
            result = await env.wait_result(api, ticket["job_key"])
        # The simulated printer makes one page of what it cannot read; that is what is charged.
        assert (result["printed"], result["charged"], result["refunded"]) == (
            1, MONO, DEPOSIT - MONO)
        async with env.client(login="bob") as api:
            with pytest.raises(ApiError) as denied:
                await api.call("jobs.release", {"ids": [bobs]})
        assert str(denied.value) == (
            "Print denied: balance 0.40, job costs 2.00 (including a deposit of 2.00 for "
            "pages that cannot be counted)")
        assert denied.value.data == {"kind": "denied", "balance": 40, "cost": DEPOSIT,
                                     "deposit": DEPOSIT}
    finally:
        env.stop()


async def test_a_deposit_job_the_printer_cannot_count_keeps_the_deposit(
        cups_queue: AddQueue) -> None:
    """Nothing counted the pages, and the printer reports no count: the review keeps the
    deposit rather than refunding it all (a review must not charge 0 for pages printed)."""
    env = make_env(start=False, ppm=6000)
    try:
        queue = start(env, cups_queue)
        env.sim_client.device(snmp="garbage", ipp_counters=False)
        job = await hold(queue, "alice", "driver-output.prn", GARBAGE,
                         fmt="application/octet-stream")
        async with env.client(login="alice") as api:
            [ticket] = await api.call("jobs.release", {"ids": [job]})
            result = await env.wait_result(api, ticket["job_key"])
        assert (result["review"], result["charged"], result["refunded"]) == (True, DEPOSIT, 0)
        assert result["review_note"].endswith(
            "kept the deposit held at release, as nobody counted the job's pages")
    finally:
        env.stop()
