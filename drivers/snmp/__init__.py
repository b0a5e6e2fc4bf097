"""drivers.snmp package."""
