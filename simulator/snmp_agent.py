"""Placeholder: the SNMP agent front-end (being written)."""

from dataclasses import dataclass

from simulator.engine import Engine


@dataclass
class SnmpHandle:
    port: int

    def close(self) -> None:
        """Stop answering."""


async def start(engine: Engine, host: str, port: int, community: str) -> SnmpHandle:
    return SnmpHandle(port)
