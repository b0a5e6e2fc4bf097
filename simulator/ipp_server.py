"""Placeholder: the IPP printer front-end (being written)."""

from aiohttp import web

from simulator.engine import Engine


def add_routes(app: web.Application, engine: Engine) -> None:
    """Mount /ipp/print."""
