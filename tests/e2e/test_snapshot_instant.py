"""The counters before a release are one instant, even when SNMP answers only on a retry."""

from __future__ import annotations

from tests.e2e.conftest import EnvFactory, printed, step_evidence


async def test_a_copy_while_snmp_answers_on_a_retry_is_not_charged_or_reviewed(
        env_with: EnvFactory) -> None:
    """Chaos run: IPP was read, then SNMP answered on its retry a second later while a
    walk-up copy printed. SNMP's 'before' held the copy and IPP's did not, the window began
    after the copy, and a clean job went to review. The pair is now read again as a pair."""
    env = env_with(start=False)
    env.config_text = (env.config_text.replace("snmp_timeout_s = 0.5", "snmp_timeout_s = 1.0")
                       .replace("snmp_retries = 0", "snmp_retries = 1")
                       .replace("status_interval_s = 0.5", "status_interval_s = 60"))
    env.start_agent()
    sim = env.sim_client
    job = await env.submit("alice", "instant.pdf", 6)
    async with env.client(login="alice") as api:
        sim.device(snmp_drop_gets=1)  # the snapshot's GET: answered on the retry
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        sim.wait_for(lambda s: s["faults"]["snmp_drop_gets"] == 0, what="the GET dropped")
        copy = sim.copy(3)
        result = await env.wait_result(api, ticket["job_key"])
    assert (printed(env, job), sim.job(copy)["printed"]) == (6, 3)
    assert (result["charged"], result["refunded"], result["review"]) == (60, 0, False)
    snapshot = step_evidence(env, ticket["job_key"], "snapshot")
    assert snapshot["ipp_at"] is not None and snapshot["snmp_at"] is not None
    assert snapshot["at"] <= min(snapshot["ipp_at"], snapshot["snmp_at"])
    assert max(snapshot["ipp_at"], snapshot["snmp_at"]) - snapshot["at"] <= 0.5
