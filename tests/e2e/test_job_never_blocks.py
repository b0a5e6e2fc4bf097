"""A job the printer cannot answer about stops blocking the printer: bounded retries, then
review (or, never released, dropped at no charge), and the next job proceeds."""

from __future__ import annotations

from tests.e2e.conftest import EnvFactory, printed, release_and_settle


async def test_a_job_forgotten_in_a_power_cycle_goes_to_review_and_the_next_prints(
        env_with: EnvFactory) -> None:
    env = env_with(ppm=120)
    sim = env.sim_client
    before = sim.counters()["true_total"]
    job = await env.submit("alice", "lost.pdf", 10)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        sim.wait_for(lambda s: s["jobs"][0]["printed"] >= 2, what="two pages printed")
        sim.power_cycle()
        came_out = sim.counters()["true_total"] - before
        result = await env.wait_result(api, ticket["job_key"], timeout=60)
        # The printer numbers from 1 again: the next job must print and settle exactly.
        after = await env.submit("alice", "next.pdf", 3)
        following = await release_and_settle(env, "alice", after, api)
    assert 2 <= came_out < 10
    assert (result["state"], result["review"], result["charged"]) == (
        "review", True, came_out * 10)
    assert "the printer could no longer tell about the job" in result["review_note"]
    assert "client-error-not-found" in result["review_note"]
    assert (printed(env, after), following["charged"], following["review"]) == (3, 30, False)


async def test_a_printer_that_refuses_release_job_is_not_waited_on_for_ever(
        env_with: EnvFactory) -> None:
    env = env_with()
    sim = env.sim_client
    sim.device(refuse_release=True)
    job = await env.submit("alice", "stuck.pdf", 4)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        refused = await env.wait_result(api, ticket["job_key"], timeout=30)
        assert (refused["state"], refused["charged"]) == ("abandoned", 0)
        assert refused["reason_text"].startswith("The printer would not release the job (")
        summary = await api.call("account.summary")
        assert summary["balance"] == 1000 and summary["transactions"] == []
        sim.device(refuse_release=False)  # fixed: the same job is still held, and goes now
        again = await release_and_settle(env, "alice", job, api)
    assert (printed(env, job), again["charged"], again["review"]) == (4, 40, False)
