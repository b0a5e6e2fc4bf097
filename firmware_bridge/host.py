"""Host driver for the copier board: one owner of the port, acked commands, cumulative reports.

asyncio over pyserial. pyserial opens and configures the port (termios, an
exclusive lock so a second process cannot talk to the board); bytes then move
with `loop.add_reader` / `add_writer` on its non-blocking descriptor. No
thread: the agent's loop stays the only one, and a read error (an unplugged
USB adapter, a closed pty) is seen on the loop at once, where the reconnect
task picks it up. Spec: PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass

import serial

from firmware_bridge import protocol as p
from firmware_bridge.messages import Ack, ChannelConfig, Identity, Nak, Status

log = logging.getLogger("pagetally.board")

COMMAND_NAMES = {p.IDENTIFY: "IDENTIFY", p.CONFIGURE: "CONFIGURE", p.ENABLE: "ENABLE",
                 p.RENEW: "RENEW", p.DISABLE: "DISABLE", p.READ: "READ"}


class BoardError(Exception):
    """Anything the board link could not do; the message is plain words for the panel."""


class NotAcked(BoardError):
    """The board answered none of the sends of a command."""


class Refused(BoardError):
    """The board answered NAK."""

    def __init__(self, nak: Nak) -> None:
        super().__init__(f"the copier board refused: {nak.words}")
        self.nak = nak


class BoardReset(BoardError):
    """The board restarted (new boot id): its counters began at zero and the relay is off."""

    def __init__(self, old: int, new: int) -> None:
        super().__init__(f"the copier board restarted (boot {old:08x} → {new:08x})")
        self.old = old
        self.new = new


class VersionMismatch(BoardError):
    """The board speaks another protocol version."""


class PortBusy(BoardError):
    """Another process holds the board's port."""


class Disconnected(BoardError):
    """The port is gone (unplugged) or not open."""


@dataclass(frozen=True)
class LinkEvent:
    """Pushed to `BoardLink.events`: a report, a reset, or the port going or coming."""

    kind: str  # "report" | "reset" | "disconnected" | "connected"
    status: Status | None = None
    reset: BoardReset | None = None


class BoardLink:
    """The host side of the protocol on one serial port.

    Use: `await link.open()` (identify), `configure()` each channel,
    `enable(limit, lease_s)`, `renew(lease_s)` well inside the lease,
    `disable()`, `read()`. `events` carries every REPORT and link change;
    `latest` is the newest STATUS seen.
    """

    def __init__(self, path: str, *, baud: int = 115200, ack_timeout: float = 0.2,
                 attempts: int = 5, reconnect_s: float = 0.5) -> None:
        self.path = path
        self.baud = baud
        self.ack_timeout = ack_timeout
        self.attempts = attempts
        self.reconnect_s = reconnect_s
        self.identity: Identity | None = None
        self.latest: Status | None = None
        self.events: asyncio.Queue[LinkEvent] = asyncio.Queue()
        self.stats = {"sent": 0, "retransmits": 0, "frames": 0, "report_gaps": 0}
        self._port: serial.Serial | None = None
        self._decoder = p.Decoder()
        self._skipped_logged = 0
        self._seq = 0
        self._lock = asyncio.Lock()
        self._waiting: tuple[int, asyncio.Future[tuple[int, bytes]]] | None = None
        self._tx = bytearray()
        self._report_seq: int | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._closed = False
        self._reset: BoardReset | None = None

    # ----- port --------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._port is not None

    def _open_port(self) -> None:
        try:
            port = serial.Serial(self.path, self.baud, timeout=0, write_timeout=0,
                                 exclusive=True)
        except serial.SerialException as exc:
            if "lock" in str(exc).lower():
                raise PortBusy(f"another program is using the copier board at {self.path}") \
                    from exc
            raise Disconnected(f"the copier board is not connected at {self.path}: {exc}") \
                from exc
        self._port = port
        self._decoder = p.Decoder()
        self._skipped_logged = 0
        self._tx.clear()
        asyncio.get_running_loop().add_reader(port.fileno(), self._readable)

    def _drop_port(self, why: str) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(port.fileno())
        loop.remove_writer(port.fileno())
        with contextlib.suppress(OSError, serial.SerialException):
            port.close()
        log.warning("copier board link lost: %s", why)
        self._fail_waiting(Disconnected(f"the copier board was disconnected ({why})"))
        self.events.put_nowait(LinkEvent("disconnected"))
        if not self._closed and self._reconnect is None:
            self._reconnect = asyncio.create_task(self._reconnect_loop(), name="board-reconnect")

    async def open(self) -> Identity:
        """Open the port and run the handshake; raises PortBusy, Disconnected, VersionMismatch."""
        self._closed = False
        self._open_port()
        try:
            return await self.identify()
        except BoardError:
            await self.close()
            raise

    async def close(self) -> None:
        self._closed = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
            self._reconnect = None
        port, self._port = self._port, None
        if port is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(port.fileno())
            loop.remove_writer(port.fileno())
            port.close()

    async def _reconnect_loop(self) -> None:
        try:
            while not self._closed:
                await asyncio.sleep(self.reconnect_s)
                try:
                    self._open_port()
                    await self.identify()
                except BoardReset:
                    pass  # reported as an event; the link is up again
                except BoardError as exc:
                    if self._port is not None:
                        self._drop_port_quietly()
                    log.debug("copier board not back yet: %s", exc)
                    continue
                self.events.put_nowait(LinkEvent("connected"))
                return
        finally:
            self._reconnect = None

    def _drop_port_quietly(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(port.fileno())
            loop.remove_writer(port.fileno())
            with contextlib.suppress(OSError, serial.SerialException):
                port.close()

    # ----- bytes -------------------------------------------------------------------

    def _readable(self) -> None:
        assert self._port is not None
        try:
            data = os.read(self._port.fileno(), 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            self._drop_port(str(exc))
            return
        if not data:
            self._drop_port("end of file")
            return
        for seq, kind, payload in self._decoder.feed(data):
            self.stats["frames"] += 1
            self._log_dropped()
            self._on_frame(seq, kind, payload)

    def _log_dropped(self) -> None:
        """Once per stretch of damage, when a good frame follows it: a damaged frame often
        arrives over several reads."""
        dropped = self._decoder.skipped - self._skipped_logged
        if dropped:
            self._skipped_logged = self._decoder.skipped
            log.warning("copier board line: %s dropped before this frame, as no part of a"
                        " valid frame (noise on the line, or a frame damaged on the way)",
                        _count(dropped, "byte"))

    def _write(self, data: bytes) -> None:
        if self._port is None:
            raise Disconnected(f"the copier board is not connected at {self.path}")
        self._tx.extend(data)
        self._flush()

    def _flush(self) -> None:
        if self._port is None:
            return
        fd = self._port.fileno()
        try:
            n = os.write(fd, self._tx)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            self._drop_port(str(exc))
            return
        del self._tx[:n]
        loop = asyncio.get_running_loop()
        if self._tx:
            loop.add_writer(fd, self._flush)
        else:
            loop.remove_writer(fd)

    # ----- frames ------------------------------------------------------------------

    def _on_frame(self, seq: int, kind: int, payload: bytes) -> None:
        if kind == p.REPORT:
            status = Status.from_bytes(payload)
            if self._report_seq is not None and seq != (self._report_seq + 1) & 0xFF:
                self.stats["report_gaps"] += 1
                log.warning("copier board line: %s lost (report %d came after %d); their"
                            " pages are in this report's running totals",
                            _count((seq - self._report_seq - 1) & 0xFF, "board report"),
                            seq, self._report_seq)
            self._report_seq = seq
            if self._check_boot(status):
                self.latest = status
                self.events.put_nowait(LinkEvent("report", status=status))
            return
        if kind in (p.ACK, p.NAK, p.IDENTITY) and self._waiting and self._waiting[0] == seq:
            fut = self._waiting[1]
            if not fut.done():
                fut.set_result((kind, payload))

    def _check_boot(self, status: Status) -> bool:
        """False (and a reset event) when a STATUS shows a boot id other than the handshake's."""
        if self.identity is None or status.boot_id == self.identity.boot_id:
            return True
        reset = BoardReset(self.identity.boot_id, status.boot_id)
        log.warning("%s", reset)
        self.identity = None
        self._reset = reset
        self._fail_waiting(reset)
        self.events.put_nowait(LinkEvent("reset", reset=reset))
        return False

    def _fail_waiting(self, exc: BoardError) -> None:
        if self._waiting and not self._waiting[1].done():
            self._waiting[1].set_exception(exc)

    async def _command(self, kind: int, payload: bytes = b"") -> tuple[int, bytes]:
        async with self._lock:
            self._seq = (self._seq + 1) & 0xFF
            frame = p.encode(self._seq, kind, payload)
            loop = asyncio.get_running_loop()
            for attempt in range(self.attempts):
                fut: asyncio.Future[tuple[int, bytes]] = loop.create_future()
                self._waiting = (self._seq, fut)
                self._write(frame)
                self.stats["sent"] += 1
                self.stats["retransmits"] += attempt > 0
                try:
                    return await asyncio.wait_for(fut, self.ack_timeout)
                except TimeoutError:
                    log.info("copier board: no answer to %s within %.2f s (try %d of %d)",
                             COMMAND_NAMES.get(kind, kind), self.ack_timeout, attempt + 1,
                             self.attempts)
                    continue
                finally:
                    self._waiting = None
            raise NotAcked(f"the copier board did not answer ({self.attempts} tries)")

    async def _status_command(self, kind: int, payload: bytes = b"") -> Status:
        if not self.connected:
            raise Disconnected(f"the copier board is not connected at {self.path}")
        if self.identity is None:
            # A reset was seen: the owner must call identify() and start over.
            raise self._reset or BoardError("the copier board has not been identified")
        answer, data = await self._command(kind, payload)
        if answer == p.NAK:
            raise Refused(Nak.from_bytes(data))
        if answer != p.ACK:
            raise BoardError("the copier board gave an answer of the wrong kind")
        status = Ack.from_bytes(data).status
        if not self._check_boot(status):
            assert self._reset is not None
            raise self._reset
        self.latest = status
        return status

    # ----- commands ----------------------------------------------------------------

    async def identify(self) -> Identity:
        """Handshake; a boot id other than the last one raises BoardReset (link usable)."""
        kind, data = await self._command(p.IDENTIFY, p.pack_identify())
        if kind != p.IDENTITY:
            raise BoardError("the copier board gave an answer of the wrong kind")
        ident = Identity.from_bytes(data)
        if ident.protocol != p.PROTOCOL_VERSION:
            raise VersionMismatch(
                f"the copier board speaks protocol {ident.protocol}, this host "
                f"{p.PROTOCOL_VERSION}: update the board's firmware (now {ident.firmware_text})")
        old, self.identity = self.identity, ident
        self._report_seq = None
        self._reset = None
        if old is not None and old.boot_id != ident.boot_id:
            reset = BoardReset(old.boot_id, ident.boot_id)
            self.events.put_nowait(LinkEvent("reset", reset=reset))
            raise reset
        return ident

    async def configure(self, cfg: ChannelConfig) -> Status:
        return await self._status_command(p.CONFIGURE, cfg.to_bytes())

    async def enable(self, limit: int, lease_s: float) -> Status:
        return await self._status_command(p.ENABLE, p.pack_enable(limit, _ms(lease_s)))

    async def renew(self, lease_s: float) -> Status:
        return await self._status_command(p.RENEW, p.pack_renew(_ms(lease_s)))

    async def disable(self) -> Status:
        return await self._status_command(p.DISABLE)

    async def read(self) -> Status:
        return await self._status_command(p.READ)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _ms(seconds: float) -> int:
    ms = round(seconds * 1000)
    if not p.LEASE_MIN_MS <= ms <= p.LEASE_MAX_MS:
        raise ValueError(f"a lease must be 0.1 to 600 s, not {seconds} s")
    return ms
