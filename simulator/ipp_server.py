"""The IPP printer front-end: HTTP POST of application/ipp, decode, dispatch, encode.

Every request gets an IPP answer, malformed ones included (bad-request, version not
supported, request too large), so a client always learns why in plain words.
"""

from __future__ import annotations

import logging
import struct

from aiohttp import web

from drivers.ipp.codec import IppDecodeError, IppMessage, decode, encode
from drivers.ipp.tags import Status
from simulator.engine import Engine
from simulator.ipp_ops import IppOperations, response
from simulator.ipp_request import Ctx, IppFail, check_header

log = logging.getLogger("pagetally.sim.ipp")

IPP_PATHS = ("/", "/ipp/print", "/ipp/print/", "/ipp/print/{job_id:\\d+}")


async def _read_body(request: web.Request, limit: int) -> tuple[bytes, bool]:
    """The body, or (when past `limit`) only its first chunks and True.

    The rest of an oversized body is read and dropped rather than left unread, so the
    client gets its answer instead of a connection reset.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif not chunks:
            chunks.append(chunk[:8])
    return b"".join(chunks), size > limit


def _bare_request(body: bytes) -> IppMessage:
    """The header of a request we could not decode, enough to address the answer."""
    if len(body) >= 8:
        major, minor, code, request_id = struct.unpack_from(">BBHi", body)
        return IppMessage((major, minor), code, request_id)
    return IppMessage((1, 1), 0, 0)


class IppEndpoint:
    """Answers POSTs to the printer URI."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ops = IppOperations(engine)

    def answer(self, body: bytes, base_uri: str) -> IppMessage:
        """The response message for a request body; never raises for bad input."""
        try:
            request = decode(body, strict=True)
        except IppDecodeError as exc:
            return response(Ctx(_bare_request(body), base_uri), Status.CLIENT_ERROR_BAD_REQUEST,
                            f"malformed IPP request: {exc}", [])
        ctx = Ctx(request, base_uri)
        try:
            check_header(ctx, self.ops.handlers)
            groups = self.ops.run(ctx)
        except IppFail as fail:
            return response(ctx, fail.status, fail.message, [])
        message = None
        if ctx.status != Status.OK:
            message = "some attributes were ignored: " + ", ".join(ctx.unsupported.attributes)
        return response(ctx, ctx.status, message, groups)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/ipp":
            return web.Response(status=400, text="this is an IPP printer: POST application/ipp")
        limit = self.engine.config.max_request_bytes
        body, too_large = await _read_body(request, limit)
        base_uri = f"ipp://{request.host}/ipp/print"
        if too_large:
            ctx = Ctx(_bare_request(body), base_uri)
            answer = response(ctx, Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE,
                              f"request is larger than {limit} bytes", [])
        else:
            answer = self._safe_answer(body, base_uri)
        return web.Response(body=encode(answer), content_type="application/ipp")

    def _safe_answer(self, body: bytes, base_uri: str) -> IppMessage:
        try:
            return self.answer(body, base_uri)
        except Exception:
            # A bug in an operation must not take the printer down: log it, answer 0x0500.
            log.exception("internal error while answering an IPP request")
            ctx = Ctx(_bare_request(body), base_uri)
            return response(ctx, Status.SERVER_ERROR_INTERNAL_ERROR,
                            "internal error in the simulated printer", [])


def add_routes(app: web.Application, engine: Engine) -> None:
    """Mount the printer at /ipp/print (and / and job URIs, which ipptool may post to)."""
    endpoint = IppEndpoint(engine)
    for path in IPP_PATHS:
        app.router.add_post(path, endpoint.handle)
