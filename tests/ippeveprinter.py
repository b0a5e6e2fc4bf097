"""CUPS's `ippeveprinter` as an outside IPP peer, on a free loopback port.

ippeveprinter registers over DNS-SD through Avahi, which needs a system D-Bus. CI machines
and containers have none, so each instance gets a private `dbus-daemon` and
DBUS_SYSTEM_BUS_ADDRESS points at it; Avahi is then merely absent and the printer serves
anyway. Its print command counts the document's pages and reports them with
`ATTR: job-impressions-completed=N`, so Get-Job-Attributes shows a real page count.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT, Child, free_port, spawn

IPPEVEPRINTER = "/usr/sbin/ippeveprinter"
DBUS_DAEMON = "/usr/bin/dbus-daemon"

_PRINT_COMMAND = """\
#!{python}
\"\"\"ippeveprinter print command: report the impressions of the job file it is given.\"\"\"
import os
import sys

sys.path.insert(0, {root!r})
from drivers.pagecount import count_pages

path = sys.argv[1]
with open(path, "rb") as f:
    data = f.read()
pages = count_pages(data, os.environ.get("CONTENT_TYPE", ""), 60) or 1
copies = int(os.environ.get("IPP_COPIES", "1") or "1")
print(f"ATTR: job-impressions-completed={{pages * copies}}", file=sys.stderr, flush=True)
"""

_DBUS_CONF = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class IppEveError(RuntimeError):
    """ippeveprinter or its private D-Bus did not come up."""


@dataclass
class IppEvePrinter:
    """A running ippeveprinter; `uri` is its IPP printer URI."""

    printer: Child
    dbus: Child
    port: int
    root: Path

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    def stop(self) -> None:
        self.printer.stop()
        self.dbus.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _start_dbus(root: Path, timeout: float) -> tuple[Child, str]:
    socket = root / "system_bus_socket"
    conf = root / "dbus.conf"
    conf.write_text(_DBUS_CONF.format(socket=socket))
    child = spawn([DBUS_DAEMON, "--nofork", "--nopidfile", "--print-address",
                   f"--config-file={conf}"])
    address = child.wait_line("unix:", timeout=timeout)
    return child, "unix:" + address


def _answers(port: int) -> bool:
    """ippeveprinter serves its status page over plain HTTP on the same port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_ippeveprinter(name: str = "PageTally Reference", *, ppm: int = 0,
                        timeout: float = 20.0) -> IppEvePrinter:
    """Start ippeveprinter with a private system bus; wait until it answers HTTP."""
    for tool in (IPPEVEPRINTER, DBUS_DAEMON):
        if not Path(tool).exists():
            raise IppEveError(f"{tool} is missing: apt-get install cups-ipp-utils dbus")
    root = Path(tempfile.mkdtemp(prefix="pagetally-ippeve-"))
    command = root / "count-pages"
    command.write_text(_PRINT_COMMAND.format(python=sys.executable, root=str(ROOT)))
    command.chmod(0o755)
    (root / "spool").mkdir()
    dbus, address = _start_dbus(root, timeout)
    port = free_port()
    args = [IPPEVEPRINTER, "-n", "localhost", "-p", str(port), "-c", str(command),
            "-d", str(root / "spool"), "-f", "application/pdf,image/pwg-raster,text/plain",
            "-F", "application/pdf", "-r", "off"]
    if ppm:
        args += ["-s", str(ppm)]
    printer = spawn([*args, name], env={"DBUS_SYSTEM_BUS_ADDRESS": address})
    handle = IppEvePrinter(printer, dbus, port, root)
    deadline = time.monotonic() + timeout
    while not _answers(port):
        if printer.proc.poll() is not None or time.monotonic() > deadline:
            handle.stop()
            raise IppEveError(f"ippeveprinter did not start (exit {printer.proc.returncode}):"
                              f"\n{printer.output()}")
        time.sleep(0.05)
    return handle
