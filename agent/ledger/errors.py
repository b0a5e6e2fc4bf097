"""Ledger errors, each with a message a person can act on."""

from __future__ import annotations


class LedgerError(Exception):
    """Something the ledger refused to do; the message says what and why."""


class SchemaError(LedgerError):
    """The database cannot be opened or upgraded by this version of the code."""


class JobNotFound(LedgerError, KeyError):
    """No job with this key in the ledger."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "job not found"


class JobInFlight(LedgerError):
    """The hold-queue job is already being released (double tap, second panel, restart)."""

    def __init__(self, message: str, job_key: str) -> None:
        super().__init__(message)
        self.job_key = job_key


class InvalidTransition(LedgerError):
    """The job is in a state where this step makes no sense (e.g. settling an abandoned job)."""
