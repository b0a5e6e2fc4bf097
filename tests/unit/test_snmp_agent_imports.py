"""The agent reads printers with our own SNMP client: pysnmp and what it pulls in stay out.

pysnmp with pyasn1 and cryptography cost the agent about 24 MB of its memory (issue 11's
goal is 45 MB while metering); the simulator still uses pysnmp, as an independent peer.
"""

from __future__ import annotations

from tests.helpers import modules_loaded_by

HEAVY = ("pysnmp", "pyasn1", "cryptography")


def test_agent_daemon_imports_no_pysnmp() -> None:
    loaded = {m.split(".")[0] for m in modules_loaded_by("agent.daemon", "drivers.snmp",
                                                         "drivers.snmp.reader")}
    assert "agent" in loaded and "drivers" in loaded  # the import really ran
    assert sorted(loaded & set(HEAVY)) == []
