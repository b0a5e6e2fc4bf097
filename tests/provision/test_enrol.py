"""Enrolment end to end: seeds from `pagetally provision`, digests imported into central's
database (a SQLite file, or a real PostgreSQL), `pagetally central enrol serve` on a real
Mosquitto, `pagetally enrol` as on first boot; then the device logs in with its own account
and the per-device ACL holds. The token store itself: tests/central/test_enrol_tokens.py."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from central.enrol import PasswordFile
from provision.build import build
from tests.helpers import BIN, Child, spawn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of
from tests.postgres import PostgresServer

PAGETALLY = str(BIN / "pagetally")


@dataclass
class Site:
    broker: Mosquitto
    central: Child
    out: Path
    db: str
    central_args: list[str]

    def restart_central(self) -> None:
        """This instance gone, another `pagetally central enrol serve` (a process and a
        database connection of its own) on the same database and broker."""
        self.central.stop()
        self.central = serve_enrolments(self.db, self.central_args)

    def device(self, device: str, where: Path) -> tuple[Path, Path]:
        """(agent.toml, token file) as first boot lays them out, under `where`."""
        data = yaml.safe_load((self.out / device / "user-data").read_text())
        files = {f["path"]: f["content"] for f in data["write_files"]}
        where.mkdir()
        config = where / "agent.toml"
        config.write_text(files["/etc/pagetally/agent.toml"].replace("/data/pagetally",
                                                                     str(where)))
        token = where / "enrol.token"
        token.write_text(files["/etc/pagetally/enrol.token"])
        (where / "enrol.secret").write_text(files["/etc/pagetally/enrol.secret"])
        return config, token


def serve_enrolments(db: str, args: list[str]) -> Child:
    child = spawn([PAGETALLY, "central", "enrol", "serve", "--db", db, *args])
    child.wait_line("READY ")
    return child


def enrol(config: Path, token: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PAGETALLY, "enrol", "--config", str(config), "--token-file",
                           str(token), "--enrol-password-file",
                           str(token.with_name("enrol.secret")), "--timeout", "10"],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(params=["sqlite", "postgres"])
def central_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Central's database: a SQLite ledger file, or a database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database("enrol")


@pytest.fixture
def site(site_dir: Path, tmp_path: Path, central_db: str) -> Iterator[Site]:
    broker = Mosquitto(tmp_path / "broker", devices=("enrol",)).start()
    assert broker.proc is not None
    pid_file = tmp_path / "mosquitto.pid"
    pid_file.write_text(f"{broker.proc.pid}\n")
    (site_dir / "enrol.secret").write_text(password_of("enrol") + "\n")
    text = (site_dir / "site.toml").read_text()
    text = text.replace('host = "mqtt.library.example"\nport = 8883\ntls = true\n'
                        'ca_file = "ca.pem"',
                        f'host = "127.0.0.1"\nport = {broker.port}\ntls = false')
    (site_dir / "site.toml").write_text(text)
    out = tmp_path / "out"
    build(site_dir / "site.toml", site_dir / "devices.toml", out)
    done = subprocess.run([PAGETALLY, "central", "enrol", "import",
                           str(out / "enrol-tokens.jsonl"), "--db", central_db],
                          capture_output=True, text=True, check=False)
    assert done.stdout == f"imported 3 enrolment tokens from {out / 'enrol-tokens.jsonl'}\n"
    central_pw = tmp_path / "central.pw"
    central_pw.write_text(password_of(CENTRAL_USER))
    args = ["--passwd-file", str(broker.workdir / "passwd"), "--broker-pid-file",
            str(pid_file), "--mqtt-port", str(broker.port), "--password-file", str(central_pw),
            "-v"]
    site = Site(broker, serve_enrolments(central_db, args), out, central_db, args)
    yield site
    site.central.stop()
    broker.kill()


def _pub(broker: Mosquitto, user: str, password: str, topic: str, text: str = "hello") -> int:
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-u",
                           user, "-P", password, "-V", "mqttv5", "-q", "1", "-t", topic,
                           "-m", text], capture_output=True, timeout=20,
                          check=False).returncode


def test_device_enrols_and_logs_in_as_itself(site: Site, tmp_path: Path) -> None:
    config, token = site.device("lib-gf-1", tmp_path / "gf")
    plain_token = token.read_text().strip()
    done = enrol(config, token)
    assert done.returncode == 0, done.stderr
    assert "enrolled lib-gf-1 at library" in done.stdout
    password = (tmp_path / "gf" / "mqtt.secret").read_text().strip()
    assert oct((tmp_path / "gf" / "mqtt.secret").stat().st_mode & 0o777) == "0o600"
    assert not token.exists()  # used up
    passwd = (site.broker.workdir / "passwd").read_text()
    assert "\nlib-gf-1:$7$1000$" in passwd
    assert password not in passwd
    assert plain_token not in site.central.output()
    # the broker took the new account (SIGHUP), with the per-device ACL:
    own, other = "pagetally/v1/library/lib-gf-1/status", "pagetally/v1/library/lib-1f-1/txn"
    observer = subprocess.Popen(site.broker.sub_command("pagetally/v1/#"),
                                stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert observer.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in observer.stdout], daemon=True).start()
    try:
        for _ in range(100):  # the observer is subscribed once a probe reaches it
            assert _pub(site.broker, "lib-gf-1", password, own, "probe") == 0
            with contextlib.suppress(queue.Empty):
                if lines.get(timeout=0.2) == f"{own} probe\n":
                    break
        while not lines.empty():
            lines.get()
        assert _pub(site.broker, "lib-gf-1", password, other, "forged") == 0  # ACL drops it
        assert _pub(site.broker, "lib-gf-1", password, own, "marker") == 0
        assert lines.get(timeout=20) == f"{own} marker\n"  # in order: forged never came
    finally:
        observer.kill()
        observer.wait()
    assert _pub(site.broker, "lib-gf-1", "wrong", "pagetally/v1/library/lib-gf-1/status") != 0


def test_token_is_single_use(site: Site, tmp_path: Path) -> None:
    config, token = site.device("lib-1f-1", tmp_path / "a")
    kept = token.read_text()
    assert enrol(config, token).returncode == 0
    # the same card contents again, on a device that lost its password
    config2, token2 = site.device("lib-1f-1", tmp_path / "b")
    token2.write_text(kept)
    done = enrol(config2, token2)
    assert done.returncode == 2
    assert "central refused: token already used at" in done.stderr


def test_token_of_another_device_is_refused(site: Site, tmp_path: Path) -> None:
    config, _ = site.device("lib-2f-1", tmp_path / "a")
    _, other = site.device("lib-gf-1", tmp_path / "b")
    done = enrol(config, other)
    assert done.returncode == 2
    assert "this token belongs to another device" in done.stderr
    assert "lib-2f-1:" not in (site.broker.workdir / "passwd").read_text()


def test_unknown_token_and_no_central(site: Site, tmp_path: Path) -> None:
    config, token = site.device("lib-2f-1", tmp_path / "a")
    token.write_text("made-up\n")
    done = enrol(config, token)
    assert done.returncode == 2
    assert "unknown token" in done.stderr
    site.central.stop()
    config, token = site.device("lib-2f-1", tmp_path / "b")
    done = subprocess.run([PAGETALLY, "enrol", "--config", str(config), "--token-file",
                           str(token), "--enrol-password-file",
                           str(token.with_name("enrol.secret")), "--timeout", "1"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1  # try again later
    assert "central did not answer within 1 s" in done.stderr
    assert token.exists()


@pytest.mark.parametrize("central_db", ["postgres"], indirect=True)
def test_instances_on_one_postgres_share_the_tokens(site: Site, tmp_path: Path) -> None:
    """Tokens imported through one connection are redeemed through another instance, and a
    token one instance spent stays spent for the next: the state is in the database."""
    assert site.db.startswith("postgresql://")
    site.restart_central()
    config, token = site.device("lib-gf-1", tmp_path / "a")
    kept = token.read_text()
    done = enrol(config, token)
    assert done.returncode == 0, done.stderr
    assert "enrolled lib-gf-1 at library" in site.central.output()
    site.restart_central()
    config2, token2 = site.device("lib-gf-1", tmp_path / "b")
    token2.write_text(kept)
    done = enrol(config2, token2)
    assert done.returncode == 2
    assert "central refused: token already used at" in done.stderr
    config3, token3 = site.device("lib-1f-1", tmp_path / "c")
    assert enrol(config3, token3).returncode == 0
    passwd = (site.broker.workdir / "passwd").read_text()
    assert "\nlib-gf-1:$7$" in passwd
    assert "\nlib-1f-1:$7$" in passwd


@pytest.mark.parametrize("central_db", ["postgres"], indirect=True)
def test_two_enrolment_services_at_once_on_one_postgres(site: Site, tmp_path: Path) -> None:
    """Two `enrol serve` beside one broker (own client ids, one shared subscription): three
    devices enrolling at once are each answered by one of them, and the password file, which
    both rewrite, keeps every account."""
    second = serve_enrolments(site.db, [*site.central_args, "--client-id", "pagetally-enrol-2"])
    devices = ("lib-gf-1", "lib-1f-1", "lib-2f-1")
    seeds = {d: site.device(d, tmp_path / d) for d in devices}
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    threads = [threading.Thread(target=lambda d=d: results.__setitem__(d, enrol(*seeds[d])))
               for d in devices]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=90)
        for d in devices:
            assert results[d].returncode == 0, results[d].stderr
        answered = site.central.output() + second.output()
        passwd = (site.broker.workdir / "passwd").read_text()
        for d in devices:
            assert answered.count(f"enrolled {d} at library") == 1
            assert f"\n{d}:$7$" in passwd
        assert second.proc.poll() is None and site.central.proc.poll() is None
    finally:
        second.stop()


def test_password_file_rewrites_take_turns(tmp_path: Path) -> None:
    """Two writers (as two enrolment services) adding accounts at once lose none."""
    passwd = tmp_path / "passwd"
    passwd.write_text("central:$7$1\n")
    hash_ = "$7$101$" + "A" * 16 + "$" + "B" * 86 + "=="

    def writer(prefix: str) -> None:
        file = PasswordFile(passwd)
        for n in range(30):
            file.set(f"{prefix}-{n}", hash_)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("a", "b")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    users = sorted(line.split(":", 1)[0] for line in passwd.read_text().splitlines())
    assert users == sorted(["central", *(f"{p}-{n}" for p in "ab" for n in range(30))])
