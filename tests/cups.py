"""A private CUPS scheduler for tests: own config, spool and state under a temp dir, one port.

The system's cupsd (if any) is left alone: this one listens only on 127.0.0.1:<free port>,
has no domain socket, no Browsing and no DNS-SD, and its policy lets loopback clients
administer it without a password, so `lpadmin -h 127.0.0.1:PORT` works unattended.
"""

from __future__ import annotations

import grp
import os
import plistlib
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import Child, free_port, spawn

CUPSD = "/usr/sbin/cupsd"
SERVER_BIN = Path("/usr/lib/cups")
DATA_DIR = Path("/usr/share/cups")

_CUPSD_CONF = """\
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
LogLevel {log_level}
MaxLogSize 0
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
DefaultEncryption Never
WebInterface No
PreserveJobHistory Yes
PreserveJobFiles No
MaxJobs 0
JobRetryInterval 1
<Location />
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  # As docs/config.md tells sites to let the agent (user "pagetally") read held jobs'
  # documents. In the default policy: with CUPS 2.4.2 a queue's printer-op-policy made no
  # difference to CUPS-Get-Document (tried).
  <Limit CUPS-Get-Document>
    AuthType None
    Require user @OWNER pagetally
    Order deny,allow
    Deny from all
  </Limit>
  <Limit All>
    Order allow,deny
    Allow from 127.0.0.1
  </Limit>
</Policy>
"""

_CUPS_FILES_CONF = """\
User {user}
Group {group}
SystemGroup root
ServerRoot {root}/etc
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/tmp
ServerBin {server_bin}
DataDir {data_dir}
DocumentRoot {data_dir}/doc-root
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
Printcap
FileDevice No
"""


class CupsError(RuntimeError):
    """The private scheduler refused to start or to do what a test asked."""


@dataclass
class Cupsd:
    """A running private cupsd. `host` is what `-h` takes; `uri(queue)` is its IPP URI."""

    child: Child
    port: int
    root: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def uri(self, queue: str) -> str:
        return f"ipp://127.0.0.1:{self.port}/printers/{queue}"

    def error_log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def diagnose(self) -> str:
        """What to show when the scheduler misbehaves: its log tail and known traps."""
        return f"--- cupsd error_log tail ---\n{self.error_log()[-3000:]}{apparmor_hint()}"

    def run(self, *args: str, timeout: float = 60.0) -> str:
        """Run a CUPS client command against this scheduler; fail with its own words."""
        env = {**os.environ, "CUPS_SERVER": self.host, "LANG": "C"}
        env.pop("CUPS_USER", None)
        done = subprocess.run(list(args), capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise CupsError(f"{' '.join(args)} failed ({done.returncode}): "
                            f"{done.stderr.strip() or done.stdout.strip()}\n{self.diagnose()}")
        return done.stdout

    def add_queue(self, name: str, device_uri: str, *, model: str = "everywhere",
                  hold: bool = False) -> str:
        """Create an enabled, accepting queue that forwards to `device_uri`; return its URI.

        `hold=True` makes every job wait (job-hold-until-default=indefinite) until a
        Release-Job, which is how PageTally's CUPS hold queue works.
        """
        args = ["lpadmin", "-h", self.host, "-p", name, "-E", "-v", device_uri, "-m", model]
        if hold:
            args += ["-o", "job-hold-until-default=indefinite"]
        self.run(*args)
        if model == "everywhere":
            self._wait_everywhere_ppd(name, device_uri)
        self.run("cupsenable", "-h", self.host, name)
        self.run("cupsaccept", "-h", self.host, name)
        return self.uri(name)

    def _wait_everywhere_ppd(self, name: str, device_uri: str, timeout: float = 20.0) -> None:
        """Wait for cupsd to build the queue's IPP Everywhere PPD from the device.

        cupsd does this in the background after lpadmin returns, and if the device does not
        answer, lpadmin has still exited 0 and the queue is left with no driver. Catch that
        here instead of at the first print.
        """
        deadline = time.monotonic() + timeout
        while True:
            (attrs,) = ipptool(self.uri(name), "Get-Printer-Attributes",
                               "keyword requested-attributes printer-make-and-model")
            if str(attrs.get("printer-make-and-model", "")).endswith("IPP Everywhere"):
                return
            errors = [line for line in self.error_log().splitlines()
                      if line.startswith("E ") and f"] {name}: " in line]
            if errors or time.monotonic() > deadline:
                reason = errors[-1].split(f"] {name}: ", 1)[1].rstrip(".") if errors else (
                    f"no answer within {timeout:.0f} s")
                raise CupsError(
                    f"CUPS could not make an IPP Everywhere queue for {device_uri}: {reason}. "
                    "(A device that is offline when the queue is made needs model='raw'.)")
            time.sleep(0.05)

    def stop(self) -> None:
        self.child.stop()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def apparmor_hint() -> str:
    """Ubuntu loads an enforcing AppArmor profile for /usr/sbin/cupsd; say so if it is on."""
    try:
        profiles = Path("/sys/kernel/security/apparmor/profiles").read_text()
    except OSError:
        return ""
    if "/usr/sbin/cupsd (enforce)" not in profiles:
        return ""
    return ("\nAppArmor confines /usr/sbin/cupsd (enforce mode), which may block a private "
            "scheduler under /tmp: on a throwaway CI machine run `aa-complain /usr/sbin/cupsd`.")


def _write_config(root: Path, port: int, log_level: str) -> None:
    for sub in ("etc", "etc/ppd", "spool", "spool/tmp", "cache", "state", "tmp", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # The scheduler runs filters and backends as User lp: every parent must be traversable.
    root.chmod(0o755)
    (root / "tmp").chmod(0o1777)
    # As root, cupsd drops to lp for filters and backends; otherwise it runs as the caller.
    if os.geteuid() == 0:
        user, group = "lp", "lp"
    else:
        user, group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
    (root / "etc" / "cupsd.conf").write_text(_CUPSD_CONF.format(port=port, log_level=log_level))
    files = _CUPS_FILES_CONF.format(user=user, group=group, root=root,
                                    server_bin=SERVER_BIN, data_dir=DATA_DIR)
    (root / "etc" / "cups-files.conf").write_text(files)


def _answers(host: str) -> bool:
    env = {**os.environ, "LANG": "C"}
    done = subprocess.run(["lpstat", "-h", host, "-r"], capture_output=True, text=True,
                          env=env, timeout=10, check=False)
    return "scheduler is running" in done.stdout


def start_cupsd(*, log_level: str = "warn", timeout: float = 20.0) -> Cupsd:
    """Start cupsd -f on a free loopback port and wait until it answers `lpstat -r`."""
    if not Path(CUPSD).exists():
        raise CupsError(f"{CUPSD} is missing: install cups (apt-get install cups)")
    root = Path(tempfile.mkdtemp(prefix="pagetally-cupsd-"))
    port = free_port()
    _write_config(root, port, log_level)
    child = spawn([CUPSD, "-f", "-c", str(root / "etc" / "cupsd.conf"),
                   "-s", str(root / "etc" / "cups-files.conf")])
    cupsd = Cupsd(child, port, root)
    deadline = time.monotonic() + timeout
    while not _answers(cupsd.host):
        if child.proc.poll() is not None or time.monotonic() > deadline:
            cupsd.stop()
            why = f"{child.output()}\n{cupsd.diagnose()}"
            cupsd.cleanup()
            raise CupsError(f"cupsd did not start (exit {child.proc.returncode}):\n{why}")
        time.sleep(0.05)
    return cupsd


def ipptool(uri: str, operation: str, *attrs: str, user: str = "root") -> list[dict[str, Any]]:
    """One IPP request through CUPS's own `ipptool`, as an outside checker.

    `attrs` are ipptool ATTR bodies in the operation group, e.g. "integer job-id 3".
    Returns the response's groups after the operation group (one dict per job).
    """
    lines = ["{", f'NAME "{operation}"', f"OPERATION {operation}",
             "GROUP operation-attributes-tag", "ATTR charset attributes-charset utf-8",
             "ATTR language attributes-natural-language en",
             f"ATTR {'uri job-uri' if '/jobs/' in uri else 'uri printer-uri'} $uri",
             f"ATTR name requesting-user-name {user}",
             *(f"ATTR {a}" for a in attrs), "STATUS successful-ok", "}"]
    with tempfile.NamedTemporaryFile("w", suffix=".test") as test:
        test.write("\n".join(lines) + "\n")
        test.flush()
        done = subprocess.run(["ipptool", "-X", "-T", "10", uri, test.name],
                              capture_output=True, timeout=30, check=False)
    try:
        result = plistlib.loads(done.stdout)["Tests"][0]
    except (plistlib.InvalidFileException, KeyError, IndexError, ValueError) as exc:
        raise CupsError(f"ipptool {operation} {uri} gave no result: "
                        f"{done.stderr.decode(errors='replace')}") from exc
    if not result.get("Successful"):
        raise CupsError(f"{operation} on {uri} failed: {result.get('StatusCode')}")
    return list(result.get("ResponseAttributes", [])[1:])
