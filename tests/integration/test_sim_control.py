"""The simulator's /sim/ control API: faults, copies, ground truth, and clear refusals."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from simulator.client import SimClient, SimControlError
from tests.helpers import SimHandle, start_sim


def raw_post(sim: SimHandle, path: str, body: bytes) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(sim.control + path, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def raw_get(sim: SimHandle, path: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(sim.control + path, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_sim_root_lists_every_control_endpoint(sim: SimHandle) -> None:
    status, answer = raw_get(sim, "/sim/")
    assert status == 200
    assert raw_get(sim, "/sim") == (status, answer)
    endpoints = answer["endpoints"]
    assert isinstance(endpoints, list)
    listed = {(e["method"], e["path"]) for e in endpoints}
    assert {("GET", "/sim/"), ("GET", "/sim/state"), ("POST", "/sim/faults/job"),
            ("POST", "/sim/faults/device"), ("POST", "/sim/copy"), ("POST", "/sim/submit"),
            ("POST", "/sim/jobs/{job_id}/cancel-at-device"), ("POST", "/sim/clear"),
            ("POST", "/sim/counters/wrap"), ("POST", "/sim/swipe"),
            ("GET", "/sim/readers")} <= listed
    assert len(listed) == len(endpoints)
    for e in endpoints:
        assert set(e) == {"method", "path", "description"}
        assert e["description"] and "\n" not in e["description"], e
        # Each one listed is served by its own handler, not the catch-all.
        path = e["path"].replace("{job_id}", "999")
        got, reply = (raw_get(sim, path) if e["method"] == "GET"
                      else raw_post(sim, path, b"{not json"))
        assert "no control endpoint" not in str(reply.get("error", "")), e
        assert got in ({200} if e["method"] == "GET" else {200, 400, 404}), (e, got, reply)


@pytest.mark.parametrize(("path", "body", "status", "message"), [
    ("/sim/copy", b"{not json", 400, "body is not valid JSON"),
    ("/sim/copy", b'{"pages": "three"}', 400, "invalid request: Expected `int`"),
    ("/sim/copy", b'{"pages": 2, "colour": true}', 400, "unknown field `colour`"),
    ("/sim/copy", b'{"pages": 0}', 400, "a copy needs at least 1 page"),
    ("/sim/faults/job", b"{}", 400, "give at least one of jam_at, paper_out_at, cancel_at"),
    ("/sim/faults/job", b'{"job_id": 99, "jam_at": 1}', 404, "job 99 does not exist"),
    ("/sim/faults/device", b'{"snmp": "sometimes"}', 400, "invalid request"),
    ("/sim/jobs/42/cancel-at-device", b"", 404, "job 42 does not exist"),
    ("/sim/nothing-here", b"{}", 404, "no control endpoint POST /sim/nothing-here"),
])
def test_bad_control_requests_get_4xx_with_the_reason(
        sim: SimHandle, path: str, body: bytes, status: int, message: str) -> None:
    got, answer = raw_post(sim, path, body)
    assert got == status
    assert message in answer["error"]


def test_client_raises_the_simulators_reason(sim_client: SimClient) -> None:
    with pytest.raises(SimControlError, match="409 job 1 is already completed"):
        job = sim_client.submit("a", "alice", 1, hold=False)
        sim_client.wait_job(job, ("completed",))
        sim_client.cancel_at_device(job)


def test_jam_then_continue_prints_every_page(sim_client: SimClient) -> None:
    sim_client.job_faults(jam_at=2, jam_then="continue")
    job = sim_client.submit("jam", "alice", 5, hold=False)
    state = sim_client.wait_for(lambda s: s["printer"]["state"] == "stopped", what="jam")
    assert "media-jam-error" in state["printer"]["state_reasons"]
    assert sim_client.job(job)["state"] == "processing-stopped"
    assert sim_client.job(job)["printed"] == 2
    sim_client.clear()
    done = sim_client.wait_job(job, ("completed",))
    assert done["printed"] == 5


def test_walk_up_copy_moves_counters_without_an_ipp_job(sim_client: SimClient) -> None:
    copy = sim_client.copy(4, color=True)
    done = sim_client.wait_job(copy, ("completed",))
    counters = sim_client.counters()
    assert (done["origin"], done["printed"]) == ("copy", 4)
    assert (counters["true_total"], counters["true_color"], counters["true_mono"]) == (4, 4, 0)


def test_counter_save_every_ten_and_reset(sim_client: SimClient) -> None:
    sim_client.device(counter_save_every=10)
    job = sim_client.submit("j", "alice", 13, hold=False)
    sim_client.wait_job(job, ("completed",))
    counters = sim_client.counters()
    assert (counters["true_total"], counters["reported_life"]) == (13, 10)
    after = sim_client.reset_counters()
    assert (after["reported_life"], after["ipp_total"], after["power_on"]) == (0, 0, 0)


def _faults_seen(seed: int) -> list[tuple[str, int]]:
    sim = start_sim("--seed", str(seed), "--fault-rate", "1.0", "--jam-then", "abort")
    try:
        client = SimClient(sim.control)
        seen = []
        for n in range(6):
            job = client.submit(f"job{n}", "alice", 10, hold=False)
            state = client.wait_for(
                lambda s, j=job: any(x["id"] == j and x["state"] in
                                     ("completed", "canceled", "aborted", "processing-stopped")
                                     for x in s["jobs"]), what=f"job {job} to end or stop")
            if state["printer"]["state"] == "stopped":
                client.clear()
            done = client.wait_job(job, ("completed", "canceled", "aborted"))
            seen.append((done["state"], done["printed"]))
        return seen
    finally:
        sim.child.stop()


def test_random_faults_are_reproducible_from_the_seed() -> None:
    first = _faults_seen(11)
    assert first == _faults_seen(11)
    assert any(printed < 10 for _, printed in first)


def test_hold_all_holds_every_job() -> None:
    sim = start_sim("--hold-all")
    try:
        client = SimClient(sim.control)
        job = client.submit("j", "alice", 2, hold=False)
        assert client.job(job)["state"] == "pending-held"
    finally:
        sim.child.stop()


def test_printer_sleeps_after_idle_and_wakes_to_print() -> None:
    sim = start_sim("--sleep-after", "0.3")
    try:
        client = SimClient(sim.control)
        job = client.submit("wake", "alice", 1, hold=False)
        client.wait_job(job, ("completed",))
        state = client.wait_for(lambda s: s["printer"]["asleep"], what="sleep")
        assert state["printer"]["state_reasons"] == ["sleep"]
        job = client.submit("again", "alice", 2, hold=False)
        assert client.wait_job(job, ("completed",))["printed"] == 2
    finally:
        sim.child.stop()
