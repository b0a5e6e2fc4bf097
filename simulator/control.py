"""JSON control endpoints under /sim/: inject faults, make copies, read the ground truth."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import msgspec
from aiohttp import web

from simulator.engine import Engine, SimError
from simulator.model import JobFaults
from simulator.profiles import PROFILES, ProfileError, parse_names

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class JobFaultsBody(msgspec.Struct, forbid_unknown_fields=True):
    job_id: int | None = None
    jam_at: int | None = None
    jam_then: Literal["abort", "continue"] = "continue"
    paper_out_at: int | None = None
    cancel_at: int | None = None


class DeviceBody(msgspec.Struct, forbid_unknown_fields=True):
    snmp: Literal["normal", "timeout", "unknown", "garbage"] | None = None
    asleep_snmp: Literal["normal", "timeout", "unknown", "garbage"] | None = None
    offline: bool | None = None
    counter_save_every: int | None = None
    toner_low: bool | None = None
    ipp_counters: bool | None = None
    clock_offset: float | None = None
    snmp_drop_gets: int | None = None
    refuse_release: bool | None = None


class ProfilesBody(msgspec.Struct, forbid_unknown_fields=True):
    profiles: list[str] | str


class CopyBody(msgspec.Struct, forbid_unknown_fields=True):
    pages: int
    color: bool = False
    user: str = "walk-up"


class WrapBody(msgspec.Struct, forbid_unknown_fields=True):
    pages_before_wrap: int = 2


class SubmitBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    user: str
    pages: int
    copies: int = 1
    sides: str = "one-sided"
    color: bool = False
    hold: bool = True


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request, kind: type[T]) -> T:
    raw = await request.read()
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"invalid request: {exc}"}), content_type="application/json"
        ) from exc
    except msgspec.DecodeError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body is not valid JSON: {exc}"}),
            content_type="application/json",
        ) from exc


def _guard(handler: Handler) -> Handler:
    """Turn the engine's refusals into 4xx answers with the reason."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except SimError as exc:
            status = {"not-found": 404, "bad-request": 400}.get(exc.kind, 409)
            return _error(status, str(exc))

    return wrapped


def control_endpoints(app: web.Application) -> list[dict[str, str]]:
    """Every route under /sim/ (the card readers' too): method, path and the first line of
    its handler's docstring, so the index cannot drift from the routes."""
    endpoints = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/sim/") or route.method in {"HEAD", "*"}:
            continue
        doc = (route.handler.__doc__ or "").strip().splitlines()
        endpoints.append({"method": route.method, "path": path,
                          "description": doc[0] if doc else ""})
    return endpoints


def add_routes(app: web.Application, engine: Engine) -> None:
    routes = web.RouteTableDef()

    @routes.get("/sim/state")
    async def state(request: web.Request) -> web.Response:
        """The ground truth: printer state, counters, faults and every job as JSON."""
        return web.json_response(engine.truth())

    @routes.post("/sim/faults/job")
    async def job_faults(request: web.Request) -> web.Response:
        """Arm jam_at, paper_out_at or cancel_at for job_id, or for the next job to arrive."""
        body = await _body(request, JobFaultsBody)
        faults = JobFaults(body.jam_at, body.jam_then, body.paper_out_at, body.cancel_at)
        if not faults.any():
            return _error(400, "give at least one of jam_at, paper_out_at, cancel_at")
        engine.set_job_faults(body.job_id, faults)
        return web.json_response({"ok": True})

    @routes.post("/sim/faults/device")
    async def device_faults(request: web.Request) -> web.Response:
        """Set device-wide faults and quirks (SNMP mode, offline, counters, clock offset)."""
        body = await _body(request, DeviceBody)
        if body.counter_save_every is not None:
            engine.set_save_every(body.counter_save_every)
        if body.snmp is not None:
            engine.faults.snmp = body.snmp
        if body.asleep_snmp is not None:
            engine.faults.asleep_snmp = body.asleep_snmp
        if body.toner_low is not None:
            engine.faults.toner_low = body.toner_low
        if body.ipp_counters is not None:
            engine.faults.ipp_counters = body.ipp_counters
        if body.clock_offset is not None:
            engine.faults.clock_offset = body.clock_offset
        if body.snmp_drop_gets is not None:
            engine.faults.snmp_drop_gets = max(0, body.snmp_drop_gets)
        if body.refuse_release is not None:
            engine.faults.refuse_release = body.refuse_release
        if body.offline is not None:
            engine.set_offline(body.offline)
        return web.json_response({"ok": True, "faults": engine.truth()["faults"]})

    @routes.post("/sim/profiles")
    async def profiles(request: web.Request) -> web.Response:
        """Imitate the quirk profiles named (a list or "a,b"; [] for none), listed by GET /sim/."""
        body = await _body(request, ProfilesBody)
        try:
            engine.apply_profiles(parse_names(body.profiles))
        except ProfileError as exc:
            return _error(400, str(exc))
        return web.json_response({"ok": True, "profiles": list(engine.profiles.names),
                                  "agent_snmp_profile": engine.profiles.agent_snmp_profile})

    @routes.post("/sim/copy")
    async def copy(request: web.Request) -> web.Response:
        """Make a walk-up copy of `pages` pages (no IPP job); answers its copy_id."""
        body = await _body(request, CopyBody)
        job = engine.make_copy(body.pages, body.color, body.user)
        return web.json_response({"ok": True, "copy_id": job.id})

    @routes.post("/sim/submit")
    async def submit(request: web.Request) -> web.Response:
        """Queue a job as if sent over IPP (held unless hold is false); answers its job_id."""
        body = await _body(request, SubmitBody)
        if body.pages < 1:
            return _error(400, "pages must be at least 1")
        job = engine.submit(name=body.name, user=body.user, pages=body.pages,
                            copies=body.copies, sides=body.sides, color=body.color,
                            hold_until="indefinite" if body.hold else "no-hold")
        return web.json_response({"ok": True, "job_id": job.id})

    @routes.post("/sim/jobs/{job_id:\\d+}/cancel-at-device")
    async def cancel_at_device(request: web.Request) -> web.Response:
        """Cancel the job from the device's panel (job-canceled-at-device)."""
        engine.cancel(int(request.match_info["job_id"]), at_device=True)
        return web.json_response({"ok": True})

    @routes.post("/sim/power-cycle")
    async def power_cycle(request: web.Request) -> web.Response:
        """Switch the device off and on: it forgets every job; its life counters persist."""
        engine.power_cycle()
        return web.json_response({"ok": True})

    @routes.post("/sim/clear")
    async def clear(request: web.Request) -> web.Response:
        """The operator clears a jam, loads paper and brings the device online."""
        engine.clear()
        return web.json_response({"ok": True})

    @routes.post("/sim/sleep")
    async def sleep(request: web.Request) -> web.Response:
        """Put an idle device to sleep now."""
        engine.sleep_now()
        return web.json_response({"ok": True, "asleep": engine.asleep})

    @routes.post("/sim/wake")
    async def wake(request: web.Request) -> web.Response:
        """Wake the device from sleep."""
        engine.wake()
        return web.json_response({"ok": True})

    @routes.post("/sim/counters/reset")
    async def reset(request: web.Request) -> web.Response:
        """Reset the device's counters to zero, as after a service reset."""
        engine.reset_counters()
        return web.json_response({"ok": True, "counters": engine.truth()["counters"]})

    @routes.post("/sim/counters/wrap")
    async def wrap(request: web.Request) -> web.Response:
        """Make the life counter wrap (Counter32) after pages_before_wrap more pages."""
        body = await _body(request, WrapBody)
        engine.counters.wrap_soon(body.pages_before_wrap)
        return web.json_response({"ok": True, "counters": engine.truth()["counters"]})

    for route in routes:
        if isinstance(route, web.RouteDef):
            app.router.add_route(route.method, route.path, _guard(route.handler))

    async def index(request: web.Request) -> web.Response:
        """This list: every control endpoint with its method and what it does."""
        return web.json_response({
            "endpoints": control_endpoints(request.app),
            "profiles": [profile.to_json() for profile in PROFILES.values()],
            "active_profiles": list(engine.profiles.names),
        })

    app.router.add_get("/sim", index)
    app.router.add_get("/sim/", index)

    async def unknown(request: web.Request) -> web.Response:
        return _error(404, f"no control endpoint {request.method} {request.path}")

    app.router.add_route("*", "/sim/{tail:.*}", unknown)
