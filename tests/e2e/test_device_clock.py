"""A printer whose clock nobody set: job times are read on the device's clock, not ours.

Many printers never get NTP. Their date-time-at-* stamps can be minutes off the terminal's
clock, and the agent must still see which jobs printed inside a job's window.
"""

from __future__ import annotations

import pytest

from tests.agent_env import AgentEnv
from tests.e2e.conftest import final_evidence, release_with_copy_during


async def test_copy_is_seen_with_the_device_clock_behind(agent_env: AgentEnv) -> None:
    """90 s behind, a walk-up copy during the job looks older than the release unless the
    agent reads times on the device's clock; the counter delta then conflicts with the
    per-job count and the job goes to review for nothing."""
    agent_env.sim_client.device(clock_offset=-90)
    result, _, copy = await release_with_copy_during(agent_env, "behind.pdf")
    assert (result["charged"], result["refunded"], result["review"]) == (60, 0, False)
    evidence = final_evidence(agent_env, result["job_key"])
    assert evidence["source"] == "ipp"
    assert any(f"#{copy} " in line for line in evidence["interleaved"]), evidence
    assert -91 < evidence["device_clock_offset_s"] < -89


@pytest.mark.parametrize("offset", [-90, 0, 90])
async def test_copy_is_not_charged_to_the_user_without_job_counts(
        agent_env: AgentEnv, offset: int) -> None:
    """On a printer with no per-job counts, a walk-up copy during the job must take the
    counter delta out of use, whatever the device's clock says: else the user pays for the
    copy's pages. 90 s ahead, the copy looks newer than the settle unless times are read on
    the device's clock; behind, older than the release."""
    agent_env.sim_client.device(clock_offset=offset, ipp_counters=False)
    result, _, copy = await release_with_copy_during(agent_env, "no-counts.pdf")
    assert (result["charged"], result["refunded"], result["review"]) == (60, 0, True)
    assert result["review_note"].startswith(
        "another job printed during this one and the device gave no per-job count: "
        f"Copy #{copy} (pages not reported). Compared: SNMP counter delta 9, ")
    assert result["review_note"].endswith("; charged the estimate of 6 pages")
    evidence = final_evidence(agent_env, result["job_key"])
    assert offset - 1 < evidence["device_clock_offset_s"] < offset + 1
