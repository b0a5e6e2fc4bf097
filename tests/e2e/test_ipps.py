"""The agent meters a job on a printer it reaches over ipps, its certificate pinned."""

from __future__ import annotations

from tests.agent_env import agent_toml, make_env
from tests.e2e.conftest import printed, release_and_settle
from tests.tls_front import tls_front


async def test_the_agent_meters_a_job_over_ipps_with_a_pinned_certificate() -> None:
    env = make_env(start=False)
    try:
        async with tls_front(env.sim.http_port) as front:
            printer = (f'ipp_uri = "{front.uri}"\ntls_fingerprint = "{front.fingerprint}"\n'
                       f'snmp_host = "127.0.0.1"\nsnmp_port = {env.sim.snmp_port}\n'
                       'snmp_profile = "pagetally-sim"\n')
            env.config_text = agent_toml(env.dir, env.sim, printer=printer)
            env.start_agent()
            job = await env.submit("alice", "secure.pdf", 4)
            async with env.client(login="alice") as api:
                result = await release_and_settle(env, "alice", job, api)
            assert printed(env, job) == 4
            assert (result["charged"], result["refunded"], result["review"]) == (40, 0, False)
    finally:
        env.stop()
