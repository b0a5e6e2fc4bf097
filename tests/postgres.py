"""A real PostgreSQL server for tests: Debian's binaries, a fresh cluster in a temporary
directory, a free port, run as an unprivileged user (the server refuses to run as root).

One server per test session; each test gets a database of its own (`new_database`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.helpers import free_port

DB_USER = "pagetally"
RUN_AS = "postgres"  # the user Debian's package creates; used when the tests run as root


def server_bin() -> Path:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres):"
                           " run ./dev test, which installs Debian's postgresql package")
    return found[-1].parent


def _as_user() -> Callable[[], None] | None:
    """Drop to the unprivileged user in the child when we are root."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(RUN_AS)

    def drop() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return drop


@dataclass
class PostgresServer:
    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    durable: bool = False
    """Flush to disk as a production server does (benchmarks); tests need not."""
    _count: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def start(self, timeout: float = 30.0) -> PostgresServer:
        bin_dir = server_bin()
        self.root.mkdir(parents=True, exist_ok=True)
        drop = _as_user()
        if drop is not None:
            entry = pwd.getpwnam(RUN_AS)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        if not self.data.exists():  # a restart keeps the cluster
            subprocess.run([str(bin_dir / "initdb"), "-D", str(self.data), "-U", DB_USER,
                            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
                           check=True, capture_output=True, preexec_fn=drop, cwd=self.root)
        # fsync off unless durable: these are throw-away clusters, and what a test checks is
        # what the database answers, not the disk; room for many connections: a test's
        # ledgers are not always closed before the garbage collector gets to them
        flush = [] if self.durable else ["-c", "fsync=off", "-c", "full_page_writes=off"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-h", "127.0.0.1", "-k", str(self.root), *flush,
                 "-c", "max_connections=400"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=drop, cwd=self.root)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start:\n"
                                       + self.log.read_text(errors="replace")) from None
                time.sleep(0.05)

    def url(self, database: str) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, hint: str = "t") -> str:
        """A fresh, empty database; its URL."""
        self._count += 1
        name = f"{''.join(c for c in hint.lower() if c.isalnum())[:40]}_{self._count}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def halt(self) -> None:
        """Shut the server down (fast: open sessions end), keeping its data for `start`."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(*, durable: bool = False) -> PostgresServer:
    # not under /tmp/pytest-of-root: the unprivileged server user must reach its directory
    return PostgresServer(Path(tempfile.mkdtemp(prefix="pagetally-pg-")),
                          durable=durable).start()
