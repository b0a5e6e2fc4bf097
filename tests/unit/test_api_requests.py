"""The local API refuses bad requests in plain words naming the field, before any handler runs.

The decoder is fuzzed with hypothesis (bytes, and JSON of any shape as params of every
method); the server is exercised over a real Unix socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.api import protocol
from agent.api.client import ApiClient, ApiError
from agent.api.methods import JOBS_DELETE, JOBS_STATUS, LOGIN_REFUSED, METHODS, SESSION_LOGIN
from agent.api.params import DeleteParams, JobKeyParams, LoginParams, NoParams, ReleaseParams
from agent.api.payloads import Deleted, JobStatus, LoginRefused, Session
from agent.api.server import ApiServer

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(st.none() | st.booleans() | st.integers()
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FIELDS = st.sampled_from(["code", "card", "pin", "reader", "ids", "all", "job_key", "x"])


def refused(line: bytes) -> ApiError:
    """The error a request line gets, from the envelope or from its params."""
    with pytest.raises(ApiError) as caught:
        request = protocol.parse_request(line)
        protocol.parse_params(METHODS[request.method], request.params)
    return caught.value


def test_a_wrong_type_names_the_field_and_what_was_expected() -> None:
    err = refused(b'{"jsonrpc":"2.0","method":"jobs.release","params":{"ids":["7"]},"id":3}')
    assert (err.code, err.kind) == (protocol.INVALID_PARAMS, "invalid-params")
    assert err.message == ("The request for jobs.release is invalid: expected a whole number,"
                           " got text (at field 'ids[0]')")


def test_a_missing_field_is_named() -> None:
    err = refused(b'{"method":"jobs.delete","params":{},"id":1}')
    assert err.message == ("The request for jobs.delete is invalid: missing required field"
                           " 'ids'")


def test_an_unknown_field_is_refused_not_ignored() -> None:
    err = refused(b'{"method":"session.login","params":{"code":"1234","pinn":"2"},"id":1}')
    assert err.message == "The request for session.login is invalid: unknown field 'pinn'"


def test_rules_across_fields_are_explained() -> None:
    both = refused(b'{"method":"session.login","params":{"code":"1","card":"2"}}')
    assert both.message.endswith("give exactly one of 'code', 'card' or 'pin'")
    neither = refused(b'{"method":"jobs.release","params":{}}')
    assert neither.message.endswith("""give either 'ids' or "all": true""")


def test_params_may_be_left_out_or_null_where_none_are_needed() -> None:
    for line in (b'{"method":"jobs.list","id":1}', b'{"method":"jobs.list","params":null}'):
        request = protocol.parse_request(line)
        assert protocol.parse_params(METHODS[request.method], request.params) == NoParams()


def test_params_decode_into_their_structs() -> None:
    def params(line: bytes) -> object:
        request = protocol.parse_request(line)
        return protocol.parse_params(METHODS[request.method], request.params)

    assert params(b'{"method":"session.login","params":{"card":"04a1","reader":"door"}}') \
        == LoginParams(card="04a1", reader="door")
    assert params(b'{"method":"jobs.release","params":{"all":true}}') \
        == ReleaseParams(all=True)
    assert params(b'{"method":"jobs.delete","params":{"ids":[3,4]}}') == DeleteParams(ids=[3, 4])


def test_garbage_and_non_requests_are_told_apart() -> None:
    garbage = refused(b"\x00\xffnot json")
    assert (garbage.code, garbage.kind) == (protocol.PARSE_ERROR, "invalid-request")
    assert garbage.message.startswith("The request is not valid JSON")
    listed = refused(b"[1, 2]")
    assert (listed.code, listed.message) == (
        protocol.INVALID_REQUEST, "The request is invalid: expected a JSON object, got a list")
    nameless = refused(b'{"params":{},"id":9}')
    assert nameless.message == "The request is invalid: missing required field 'method'"
    assert protocol.request_id(b'{"params":{},"id":9}') == 9


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_bytes_are_a_request_or_a_plain_error(data: bytes) -> None:
    try:
        request = protocol.parse_request(data)
    except ApiError as exc:
        assert exc.code in (protocol.PARSE_ERROR, protocol.INVALID_REQUEST)
        assert exc.message.startswith("The request is ")
        assert json.loads(protocol.error(protocol.request_id(data), exc))["error"]["code"] \
            == exc.code
        return
    assert isinstance(request.method, str)


@FUZZ
@given(st.sampled_from(sorted(METHODS)), st.dictionaries(FIELDS, JSON, max_size=4) | JSON)
def test_fuzz_params_of_every_method_decode_or_are_refused_by_name(name: str,
                                                                   params: object) -> None:
    line = json.dumps({"jsonrpc": "2.0", "method": name, "params": params, "id": 1}).encode()
    method = METHODS[name]
    try:
        decoded = protocol.parse_params(method, protocol.parse_request(line).params)
    except ApiError as exc:
        assert (exc.code, exc.kind) == (protocol.INVALID_PARAMS, "invalid-params")
        assert exc.message.startswith(f"The request for {name} is invalid: ")
        return
    assert isinstance(decoded, method.params)
    again = msgspec.json.decode(msgspec.json.encode(decoded), type=method.params)
    assert again == decoded


# ----- over a real socket ---------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[ApiServer]:
    folder = Path(tempfile.mkdtemp(prefix="api"))  # short: a socket path has 107 bytes
    api = ApiServer(folder / "agent.sock")

    async def delete(params: DeleteParams) -> Deleted:
        return Deleted(deleted=params.ids)

    async def status(params: JobKeyParams) -> JobStatus:
        raise ValueError(f"a bug while looking up {params.job_key}")

    async def login(params: LoginParams) -> Session:
        raise ApiError("bad-code", "That code is not known")

    api.register(JOBS_DELETE, delete)
    api.register(JOBS_STATUS, status)
    api.register(SESSION_LOGIN, login)
    await api.start()
    yield api
    await api.close()
    shutil.rmtree(folder)


async def test_server_answers_typed_results_and_plain_errors(
        server: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pagetally.api")
    client = await ApiClient.connect(str(server.socket_path))
    try:
        assert await client.call("jobs.delete", {"ids": [5, 6]}) == {"deleted": [5, 6]}
        with pytest.raises(ApiError) as bad:
            await client.call("jobs.delete", {"ids": "5"})
        assert (bad.value.kind, bad.value.code) == ("invalid-params", protocol.INVALID_PARAMS)
        assert "(at field 'ids')" in bad.value.message
        with pytest.raises(ApiError) as unknown:
            await client.call("jobs.shred", {})
        assert (unknown.value.kind, unknown.value.code, unknown.value.message) == (
            "not-found", protocol.METHOD_NOT_FOUND, "The agent has no method 'jobs.shred'")
        with pytest.raises(ApiError) as refused_login:
            await client.call("session.login", {"code": "0000"})
        assert (refused_login.value.kind, refused_login.value.message) == (
            "bad-code", "That code is not known")
        with pytest.raises(ApiError) as bug:
            await client.call("jobs.status", {"job_key": "k1"})
        assert (bug.value.kind, bug.value.code) == ("internal", protocol.INTERNAL_ERROR)
    finally:
        await client.close()
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("refused jobs.delete: The request for jobs.delete is invalid")
               for m in logged), logged
    assert "refused jobs.shred: The agent has no method 'jobs.shred'" in logged
    assert "jobs.status failed" in logged


async def test_server_survives_garbage_on_the_same_connection(server: ApiServer) -> None:
    reader, writer = await asyncio.open_unix_connection(str(server.socket_path))
    try:
        writer.write(b"\x00\xff{garbage\n")
        answer = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert answer["id"] is None
        assert answer["error"]["code"] == protocol.PARSE_ERROR
        assert answer["error"]["message"].startswith("The request is not valid JSON")
        writer.write(b'{"jsonrpc":"2.0","method":"jobs.delete","params":{"ids":[1]},"id":"a"}\n')
        answer = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert answer == {"jsonrpc": "2.0", "result": {"deleted": [1]}, "id": "a"}
    finally:
        writer.close()


async def test_notifications_go_out_as_their_struct(server: ApiServer) -> None:
    client = await ApiClient.connect(str(server.socket_path))
    try:
        assert await client.call("subscribe") == {"ok": True}
        server.notify(LOGIN_REFUSED, LoginRefused(kind="needs-pin", message="Enter your PIN"))
        note = await client.next_notification("login.refused", timeout=10)
        assert note == {"kind": "needs-pin", "message": "Enter your PIN"}
    finally:
        await client.close()
