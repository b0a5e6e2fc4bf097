"""The CUPS hold queue as the agent's source: held in CUPS, printed by the device, metered."""

from __future__ import annotations

import io

from pypdf import PdfWriter

from drivers.ipp.client import IppClient
from tests.agent_env import AgentEnv, agent_toml, make_env
from tests.integration.conftest import AddQueue, CupsQueue


def pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def start_cups_agent(env: AgentEnv, cups_queue: AddQueue) -> CupsQueue:
    """A CUPS queue holding jobs for the simulator, and the agent using it as its source."""
    queue = cups_queue(env.sim.ipp, hold=True, model="raw")
    printer = (f'ipp_uri = "{env.sim.ipp}"\nsnmp_host = "127.0.0.1"\n'
               f'snmp_port = {env.sim.snmp_port}\nsnmp_profile = "pagetally-sim"\n'
               f'hold_source = "cups"\nhold_uri = "{queue.uri}"\n')
    env.config_text = agent_toml(env.dir, env.sim, printer=printer)
    env.start_agent()
    return queue


async def test_agent_releases_from_cups_and_meters_on_the_device(cups_queue: AddQueue) -> None:
    env = make_env(start=False)
    try:
        queue = start_cups_agent(env, cups_queue)
        env.sim_client.job_faults(jam_at=2, jam_then="abort")
        async with IppClient(queue.uri) as cups:
            cups_job = await cups.print_job(pdf(4), name="thesis.pdf", user="alice",
                                            document_format="application/pdf", hold=True,
                                            impressions=4)
        assert env.sim_client.state()["jobs"] == []
        async with env.client(login="alice") as api:
            [held] = await api.call("jobs.list")
            assert (held["id"], held["name"], held["estimate"]) == (cups_job, "thesis.pdf", 40)
            [ticket] = await api.call("jobs.release", {"ids": [cups_job]})
            progress = await api.next_notification("job.progress")
            while progress["state"] != "stopped":
                progress = await api.next_notification("job.progress")
            assert progress["stopped_for"] == "jam"
            env.sim_client.clear()
            result = await env.wait_result(api, ticket["job_key"])
        [device_job] = env.sim_client.state()["jobs"]
        assert (device_job["name"], device_job["user"], device_job["printed"]) == (
            "thesis.pdf", "alice", 2)
        assert (result["charged"], result["refunded"], result["reason"]) == (20, 20, "jam")
    finally:
        env.stop()


async def test_same_named_jobs_released_together_each_meter_their_own(
        cups_queue: AddQueue) -> None:
    """Matched by user and name, the second device job must not be taken for the first."""
    env = make_env(start=False, ppm=6000)
    try:
        queue = start_cups_agent(env, cups_queue)
        ids = []
        async with IppClient(queue.uri) as cups:
            for pages in (2, 5):
                ids.append(await cups.print_job(pdf(pages), name="report.pdf", user="alice",
                                                document_format="application/pdf", hold=True,
                                                impressions=pages))
        async with env.client(login="alice") as api:
            tickets = await api.call("jobs.release", {"ids": ids})
            results = [await env.wait_result(api, t["job_key"]) for t in tickets]
        printed = [j["printed"] for j in env.sim_client.state()["jobs"]]
        assert printed == [2, 5]
        assert [(r["charged"], r["refunded"], r["review"]) for r in results] == [
            (20, 0, False), (50, 0, False)]
    finally:
        env.stop()


async def test_device_clock_behind_still_finds_the_forwarded_job(cups_queue: AddQueue) -> None:
    """The device job CUPS forwards is matched by its creation time; on a printer whose clock
    is a minute behind, that time is on the printer's clock, not the terminal's."""
    env = make_env(start=False, ppm=6000)
    try:
        queue = start_cups_agent(env, cups_queue)
        env.sim_client.device(clock_offset=-60)
        async with IppClient(queue.uri) as cups:
            cups_job = await cups.print_job(pdf(3), name="behind.pdf", user="alice",
                                            document_format="application/pdf", hold=True,
                                            impressions=3)
        async with env.client(login="alice") as api:
            [ticket] = await api.call("jobs.release", {"ids": [cups_job]})
            result = await env.wait_result(api, ticket["job_key"])
        [device_job] = env.sim_client.state()["jobs"]
        assert (device_job["name"], device_job["printed"]) == ("behind.pdf", 3)
        assert (result["charged"], result["refunded"], result["review"]) == (30, 0, False)
    finally:
        env.stop()


async def test_same_document_twice_with_a_kill_mid_second_job(cups_queue: AddQueue) -> None:
    """Chaos run: 1 page, then 5 pages of the same title; the agent killed while following
    the second. The restarted agent took the first job's device job for the second (charged
    0.15 for 5 pages): which device job belongs to which release must survive a restart."""
    env = make_env(start=False, ppm=120)
    try:
        queue = start_cups_agent(env, cups_queue)
        async with IppClient(queue.uri) as cups:
            ids = [await cups.print_job(pdf(pages), name="same.pdf", user="alice",
                                        document_format="application/pdf", hold=True,
                                        impressions=pages) for pages in (1, 5)]
        async with env.client(login="alice") as api:
            [first] = await api.call("jobs.release", {"ids": [ids[0]]})
            results = [await env.wait_result(api, first["job_key"])]
            [second] = await api.call("jobs.release", {"ids": [ids[1]]})
            env.sim_client.wait_for(lambda s: len(s["jobs"]) == 2 and s["jobs"][1]["printed"],
                                    what="the second job printing")
        assert env.agent is not None
        env.agent.kill9()
        env.sim_client.wait_for(lambda s: s["jobs"][1]["state"] == "completed",
                                what="the second job done while the agent is down")
        env.start_agent()
        async with env.client(login="alice") as api:
            results.append(await env.wait_settled(api, second["job_key"]))
        assert [j["printed"] for j in env.sim_client.state()["jobs"]] == [1, 5]
        assert [(r["charged"], r["refunded"], r["review"]) for r in results] == [
            (10, 0, False), (50, 0, False)]
    finally:
        env.stop()
