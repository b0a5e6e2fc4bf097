"""Enrolment end to end: seeds from `pagetally provision`, digests imported at central,
`pagetally central enrol serve` on a real Mosquitto, `pagetally enrol` as on first boot;
then the device logs in with its own account and the per-device ACL holds."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from central.enrol import EnrolRefused, TokenFileError, TokenStore, digest
from provision.build import build
from tests.helpers import BIN, Child, spawn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of

PAGETALLY = str(BIN / "pagetally")


@dataclass
class Site:
    broker: Mosquitto
    central: Child
    out: Path
    tokens_db: Path

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


def enrol(config: Path, token: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PAGETALLY, "enrol", "--config", str(config), "--token-file",
                           str(token), "--enrol-password-file",
                           str(token.with_name("enrol.secret")), "--timeout", "10"],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def site(site_dir: Path, tmp_path: Path) -> Iterator[Site]:
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
    tokens_db = tmp_path / "enrol.db"
    done = subprocess.run([PAGETALLY, "central", "enrol", "import",
                           str(out / "enrol-tokens.jsonl"), "--tokens-db", str(tokens_db)],
                          capture_output=True, text=True, check=False)
    assert done.stdout == f"imported 3 enrolment tokens from {out / 'enrol-tokens.jsonl'}\n"
    central_pw = tmp_path / "central.pw"
    central_pw.write_text(password_of(CENTRAL_USER))
    central = spawn([PAGETALLY, "central", "enrol", "serve", "--tokens-db", str(tokens_db),
                     "--passwd-file", str(broker.workdir / "passwd"), "--broker-pid-file",
                     str(pid_file), "--mqtt-port", str(broker.port), "--password-file",
                     str(central_pw), "-v"])
    central.wait_line("READY ")
    yield Site(broker, central, out, tokens_db)
    central.stop()
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


def test_store_expiry_and_retry_with_same_hash(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.db")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    store.add(digest("tok"), "s", "d", now + dt.timedelta(hours=1))
    store.add(digest("old"), "s", "d", now - dt.timedelta(seconds=1))
    with pytest.raises(EnrolRefused, match="token expired at 2025-12-31T23:59:59"):
        store.redeem("old", "s", "d", "$7$h", now)
    store.redeem("tok", "s", "d", "$7$h1", now)
    store.redeem("tok", "s", "d", "$7$h1", now + dt.timedelta(minutes=1))  # answer was lost
    with pytest.raises(EnrolRefused, match="already used"):
        store.redeem("tok", "s", "d", "$7$h2", now)
    store.close()


def test_import_rejects_bad_lines(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.db")
    good = json.dumps({"site": "s", "device": "d", "sha256": "a" * 64,
                       "expires": "2026-01-01T00:00:00+00:00"})
    with pytest.raises(TokenFileError, match=r"f\.jsonl line 2: not a token record"):
        store.import_lines([good, "{"], "f.jsonl")
    assert store.db.execute("SELECT count(*) FROM enrol_tokens").fetchone() == (0,)
    store.close()
