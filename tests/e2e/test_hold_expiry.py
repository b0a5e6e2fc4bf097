"""Held jobs nobody came for are deleted after `hold_expiry_s`, at no charge, and their
owner is told why on the panel."""

from __future__ import annotations

import asyncio

import msgspec

from agent.api.payloads import Expired
from tests.e2e.conftest import EnvFactory
from ui.screens.jobs import expired_text


async def test_a_job_held_too_long_is_deleted_at_no_charge_and_its_owner_told(
        env_with: EnvFactory) -> None:
    env = env_with(start=False)
    env.config_text = env.config_text.replace("[prices.media.default]",
                                              "hold_expiry_s = 2.0\n\n[prices.media.default]")
    env.start_agent()
    sim = env.sim_client
    old = await env.submit("alice", "forgotten.pdf", 3)
    await asyncio.sleep(1.0)
    fresh = await env.submit("alice", "fresh.pdf", 2)
    sim.wait_for(lambda s: s["jobs"][0]["state"] == "canceled", timeout=10,
                 what="the old job deleted")
    assert sim.job(fresh)["state"] == "pending-held"  # a second younger: still waiting
    async with env.client(login="alice") as api:
        expired = await api.call("jobs.expired")
        assert [(j["id"], j["name"], j["waited_s"]) for j in expired] == [
            (old, "forgotten.pdf", 2.0)]
        summary = await api.call("account.summary")
    assert (sim.job(old)["printed"], summary["balance"], summary["transactions"]) == (
        0, 1000, [])
    assert expired_text(msgspec.convert(expired, list[Expired])) == (
        "forgotten.pdf waited more than 2 seconds and was deleted. You were not charged.")
    many = [Expired(id=n, name=name, expired_at=None, reason_text="", waited_s=14400.0)
            for n, name in enumerate(("a.pdf", "b.pdf", "c.pdf"))]
    assert expired_text(many) == ("a.pdf, b.pdf and 1 more waited more than 4 hours and were "
                                  "deleted. You were not charged.")
    assert env.agent is not None
    assert env.agent.output().count(f"held job {old} (forgotten.pdf)") == 1
