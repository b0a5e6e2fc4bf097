"""SNMP driver: Printer-MIB and Host Resources reads, with printer profiles as data."""

from drivers.snmp.decode import Alert
from drivers.snmp.profiles import Profile, ProfileError, available_profiles, load_profile
from drivers.snmp.reader import PrinterSnapshot, SnmpReader

__all__ = [
    "Alert",
    "PrinterSnapshot",
    "Profile",
    "ProfileError",
    "SnmpReader",
    "available_profiles",
    "load_profile",
]
