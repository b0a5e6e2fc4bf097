"""Copy sessions end to end: how long Stop takes to settle, against a print job's settle.

The simulator (its copier board on a pty) and a real agent daemon run as in the end-to-end
tests. Each round makes a copy session of N mono pages (copy.start, the copier makes them,
copy.stop) and, as the reference measured in the same run, releases a held print job of N
pages. Reported: the copy.stop round trip (it answers with the settled result: relay off,
board count final, device at rest), the print job's time from its end on the simulator
(`completed_at`, wall clock) to its job.result, p50 and max of each, their ratio, and how
many sessions were charged exactly the pages the board and the engine made.

Run: .venv/bin/python -m bench.copy_session [--rounds 10] [--pages 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
from typing import Any

from tests.agent_env import AgentEnv, make_env

MONO = 10


def _board(env: AgentEnv, path: str = "", body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{env.sim.control}/sim/board{path}", data=data,
                                 method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def start_env() -> AgentEnv:
    env = make_env(start=False)
    env.config_text += (f'\n[copier]\nboard_port = "{_board(env)["path"]}"\n'
                        '\n[copier.prices]\nmono = "0.10"\n')
    env.start_agent()
    return env


async def run(rounds: int, pages: int) -> dict[str, Any]:
    env = start_env()
    copy_s, print_s, exact = [], [], 0
    try:
        async with env.client(login="alice") as api:
            for _ in range(rounds):
                await api.call("copy.start")
                made = await asyncio.to_thread(_board, env, "/copy", {"pages": pages})
                began = time.perf_counter()
                result = await api.call("copy.stop")
                copy_s.append(time.perf_counter() - began)
                exact += (result["pages"] == made["copied"] == pages
                          and result["charged"] == pages * MONO and not result["review"])
                job = await env.submit("alice", "ref.pdf", pages)
                [ticket] = await api.call("jobs.release", {"ids": [job]})
                await env.wait_result(api, ticket["job_key"])
                arrived = time.time()
                truth = env.sim_client.job(job)
                print_s.append(arrived - float(truth["completed_at"]))
    finally:
        env.stop()
    copy_p50, print_p50 = statistics.median(copy_s), statistics.median(print_s)
    return {"rounds": rounds, "pages": pages, "exact": exact,
            "copy_stop_p50_s": round(copy_p50, 3), "copy_stop_max_s": round(max(copy_s), 3),
            "print_settle_p50_s": round(print_p50, 3),
            "print_settle_max_s": round(max(print_s), 3),
            "ratio_p50": round(copy_p50 / print_p50, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pages", type=int, default=5)
    args = parser.parse_args()
    out = asyncio.run(run(args.rounds, args.pages))
    print(f"{out['exact']}/{out['rounds']} copy sessions charged exactly")
    print(f"copy.stop → settled: p50 {out['copy_stop_p50_s']} s, max {out['copy_stop_max_s']} s")
    print(f"print job last page → job.result (reference): p50 {out['print_settle_p50_s']} s, "
          f"max {out['print_settle_max_s']} s")
    print(f"ratio copy/print p50: {out['ratio_p50']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
