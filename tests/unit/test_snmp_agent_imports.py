"""The agent reads printers with our own SNMP client: pysnmp and what it pulls in stay out.

pysnmp with pyasn1 and cryptography cost the agent about 24 MB of its memory (issue 11's
goal is 45 MB while metering); the simulator still uses pysnmp, as an independent peer.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pysnmp", "pyasn1", "cryptography")


def test_agent_daemon_imports_no_pysnmp() -> None:
    code = ("import json, sys\n"
            "import agent.daemon, drivers.snmp, drivers.snmp.reader\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert "agent" in loaded and "drivers" in loaded  # the import really ran
    assert sorted(loaded & set(HEAVY)) == []
