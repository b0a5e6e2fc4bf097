"""Charges and refunds against the simulator's ground truth, one fault at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.api.client import ApiError
from tests.agent_env import AgentEnv
from tests.e2e.conftest import (
    PRICE_MONO,
    EnvFactory,
    printed,
    release_and_settle,
    release_with_copy_during,
)


async def test_normal_job_is_charged_exactly(agent_env: AgentEnv) -> None:
    job = await agent_env.submit("alice", "report.pdf", 5)
    async with agent_env.client(login="alice") as api:
        [held] = await api.call("jobs.list")
        assert (held["id"], held["pages"], held["estimate"]) == (job, 5, 5 * PRICE_MONO)
        result = await release_and_settle(agent_env, "alice", job, api)
        summary = await api.call("account.summary")
    assert printed(agent_env, job) == 5
    assert (result["charged"], result["refunded"], result["review"]) == (50, 0, False)
    assert result["reason"] == "completed"
    assert summary["balance"] == 1000 - 50


async def test_jam_charges_pages_marked_and_refunds_the_rest(agent_env: AgentEnv) -> None:
    sim = agent_env.sim_client
    sim.job_faults(jam_at=3, jam_then="abort")
    job = await agent_env.submit("alice", "jam.pdf", 10)
    async with agent_env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        stopped = await api.next_notification("job.progress")
        while stopped["state"] != "stopped":
            stopped = await api.next_notification("job.progress")
        assert stopped["stopped_for"] == "jam"
        sim.clear()
        result = await agent_env.wait_result(api, ticket["job_key"])
    assert printed(agent_env, job) == 3
    assert (result["charged"], result["refunded"]) == (30, 70)
    assert (result["reason"], result["reason_text"]) == ("jam", "Paper jam at page 3")
    assert result["review"] is False


async def test_cancel_before_printing_refunds_everything(env_with: EnvFactory) -> None:
    env = env_with("--warmup", "3")
    env.sim_client.sleep()
    job = await env.submit("alice", "never.pdf", 4)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        warming = await api.next_notification("job.progress")
        assert (warming["state"], warming["printed"]) == ("printing", 0)
        await api.call("jobs.cancel", {"job_key": ticket["job_key"]})
        result = await env.wait_result(api, ticket["job_key"])
    assert printed(env, job) == 0
    assert (result["charged"], result["refunded"], result["reason"]) == (0, 40,
                                                                         "never-started")


async def test_cancel_at_device_mid_job_is_exact(agent_env: AgentEnv) -> None:
    agent_env.sim_client.job_faults(cancel_at=4)
    job = await agent_env.submit("alice", "cancel.pdf", 9)
    async with agent_env.client(login="alice") as api:
        result = await release_and_settle(agent_env, "alice", job, api)
    assert printed(agent_env, job) == 4
    assert (result["charged"], result["refunded"]) == (40, 50)
    assert result["reason"] == "canceled-at-device"
    assert agent_env.sim_client.job(job)["state_reasons"] == ["job-canceled-at-device"]


async def test_cancel_on_the_device_panel_while_printing_says_so(env_with: EnvFactory) -> None:
    """Someone presses Stop on the printer mid-job (not a page-k fault): the statement must
    say "canceled at the printer", not "canceled by you" (RFC 8011 job-canceled-at-device)."""
    env = env_with(ppm=240)  # a page every 0.25 s: time to cancel mid-job
    sim = env.sim_client
    job = await env.submit("alice", "stopped-at-panel.pdf", 20)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        progress = await api.next_notification("job.progress")
        while progress["printed"] < 2:
            progress = await api.next_notification("job.progress")
        assert sim.job(job)["state"] == "processing"
        sim.cancel_at_device(job)
        result = await env.wait_result(api, ticket["job_key"])
    assert result["reason"] == "canceled-at-device"
    assert result["reason_text"].startswith("Canceled at the printer")
    assert 2 <= printed(env, job) < 20
    assert result["charged"] == 10 * printed(env, job)
    done = sim.job(job)
    assert (done["state"], done["state_reasons"]) == ("canceled", ["job-canceled-at-device"])


async def test_paper_out_then_refilled_charges_the_whole_job(agent_env: AgentEnv) -> None:
    sim = agent_env.sim_client
    sim.job_faults(paper_out_at=2)
    job = await agent_env.submit("alice", "paper.pdf", 6)
    async with agent_env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        sim.wait_for(lambda s: s["faults"]["paper_out"], what="paper out")
        sim.clear()
        result = await agent_env.wait_result(api, ticket["job_key"])
    assert printed(agent_env, job) == 6
    assert (result["charged"], result["refunded"], result["review"]) == (60, 0, False)


async def test_printer_asleep_at_release_is_still_exact(env_with: EnvFactory) -> None:
    env = env_with("--warmup", "0.5")
    sim = env.sim_client
    sim.device(asleep_snmp="timeout")
    assert sim.sleep() is True
    job = await env.submit("alice", "asleep.pdf", 5)
    async with env.client(login="alice") as api:
        result = await release_and_settle(env, "alice", job, api)
    assert printed(env, job) == 5
    assert (result["charged"], result["review"]) == (50, False)


@pytest.fixture
def save10_env(tmp_path: Path, env_with: EnvFactory) -> AgentEnv:
    profile = tmp_path / "save10.toml"
    profile.write_text(Path("drivers/snmp/profiles/pagetally-sim.toml").read_text()
                       .replace("saves_every = 1", "saves_every = 10"))
    return env_with(snmp_profile=str(profile))


async def test_counter_saved_every_ten_pages_is_exact(save10_env: AgentEnv) -> None:
    env = save10_env
    env.sim_client.device(counter_save_every=10)
    job = await env.submit("alice", "save10.pdf", 13)
    async with env.client(login="alice") as api:
        result = await release_and_settle(env, "alice", job, api)
    assert printed(env, job) == 13
    assert env.sim_client.counters()["reported_life"] == 10
    assert (result["charged"], result["review"]) == (130, False)


async def test_counter32_wrap_is_exact(agent_env: AgentEnv) -> None:
    before = agent_env.sim_client.wrap_counter(pages_before_wrap=2)
    assert before["reported_life"] == 2**32 - 2
    job = await agent_env.submit("alice", "wrap.pdf", 5)
    async with agent_env.client(login="alice") as api:
        result = await release_and_settle(agent_env, "alice", job, api)
    assert agent_env.sim_client.counters()["reported_life"] == 3
    assert (result["charged"], result["review"]) == (50, False)


async def test_counter_reset_during_job_goes_to_review(agent_env: AgentEnv) -> None:
    sim = agent_env.sim_client
    earlier = sim.submit("earlier", "carol", 20, hold=False)
    sim.wait_job(earlier, ("completed",))
    sim.job_faults(paper_out_at=2)
    job = await agent_env.submit("alice", "reset.pdf", 6)
    async with agent_env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        sim.wait_for(lambda s: s["faults"]["paper_out"], what="paper out")
        sim.reset_counters()
        sim.clear()
        result = await agent_env.wait_result(api, ticket["job_key"])
    assert printed(agent_env, job) == 6
    assert (result["charged"], result["review"]) == (60, True)
    assert "reset" in result["review_note"]


async def test_walk_up_copy_during_job_uses_the_ipp_count(agent_env: AgentEnv) -> None:
    result, _, _ = await release_with_copy_during(agent_env, "copy.pdf")
    assert agent_env.sim_client.counters()["true_total"] == 9
    assert (result["charged"], result["review"]) == (60, False)


async def test_counters_missing_charge_estimate_and_review(agent_env: AgentEnv) -> None:
    agent_env.sim_client.device(snmp="garbage", ipp_counters=False)
    job = await agent_env.submit("alice", "blind.pdf", 4)
    async with agent_env.client(login="alice") as api:
        result = await release_and_settle(agent_env, "alice", job, api)
    assert printed(agent_env, job) == 4
    assert (result["charged"], result["refunded"], result["review"]) == (40, 0, True)
    assert result["review_note"] == (
        "no trustworthy page count from the device. Compared: SNMP counter delta unknown, IPP "
        "printer counter delta unknown, IPP job count not reported, estimate 4; charged the "
        "estimate of 4 pages")


async def test_garbage_snmp_alone_falls_back_to_ipp(agent_env: AgentEnv) -> None:
    agent_env.sim_client.device(snmp="garbage")
    agent_env.sim_client.job_faults(jam_at=2, jam_then="abort")
    job = await agent_env.submit("alice", "garbage.pdf", 5)
    async with agent_env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        agent_env.sim_client.wait_for(lambda s: s["faults"]["jammed"], what="jam")
        agent_env.sim_client.clear()
        result = await agent_env.wait_result(api, ticket["job_key"])
    assert (result["charged"], result["review"]) == (20, False)


async def test_credit_check_denies_with_the_figures(agent_env: AgentEnv) -> None:
    job = await agent_env.submit("bob", "big.pdf", 12)
    async with agent_env.client(login="bob") as api:
        with pytest.raises(Exception) as denied:
            await api.call("jobs.release", {"ids": [job]})
    assert str(denied.value) == "Print denied: balance 0.40, job costs 1.20"
    assert agent_env.sim_client.job(job)["state"] == "pending-held"


STEPS = ["snapshot", "release", "charge", "follow", "settle"]


@pytest.mark.parametrize("step", STEPS)
async def test_kill9_at_each_step_settles_exactly_once(agent_env: AgentEnv, step: str) -> None:
    env = agent_env
    env.agent.stop()  # type: ignore[union-attr]
    agent = env.start_agent(PAGETALLY_TEST_KILL_AT=step)
    job = await env.submit("alice", f"kill-{step}.pdf", 5)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
    assert agent.proc.wait(timeout=30) == -9
    env.start_agent()
    async with env.client(login="alice") as api:
        status = await env.wait_settled(api, ticket["job_key"])
        summary = await api.call("account.summary")
    assert printed(env, job) == 5
    assert (status["state"], status["charged"], status["refunded"]) == ("settled", 50, 0)
    assert summary["balance"] == 1000 - 50
    assert [t["amount"] for t in summary["transactions"]] == [-50]


async def test_stalled_job_is_cancelled_and_settled_for_what_printed(
        env_with: EnvFactory) -> None:
    env = env_with(start=False)
    env.config_text = env.config_text.replace("idle_polls = 3",
                                              "idle_polls = 3\nstall_timeout_s = 1.0")
    env.start_agent()
    env.sim_client.job_faults(jam_at=2, jam_then="abort")
    job = await env.submit("alice", "stuck.pdf", 5)
    async with env.client(login="alice") as api:
        result = await release_and_settle(env, "alice", job, api)
    assert printed(env, job) == 2
    assert (result["charged"], result["refunded"], result["review"]) == (20, 30, False)
    assert env.sim_client.job(job)["state"] == "canceled"
    # The agent cancelled it, not the user: the statement names the jam it was stuck at.
    assert (result["reason"], result["reason_text"]) == ("jam", "Paper jam at page 2")


async def test_a_job_being_released_is_not_listed_or_released_twice(
        env_with: EnvFactory) -> None:
    env = env_with("--warmup", "2")
    env.sim_client.sleep()
    job = await env.submit("alice", "twice.pdf", 3)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        assert await api.call("jobs.list") == []
        with pytest.raises(ApiError, match=f"Job {job} is already being printed"):
            await api.call("jobs.release", {"ids": [job]})
        result = await env.wait_result(api, ticket["job_key"])
    assert (printed(env, job), result["charged"]) == (3, 30)
