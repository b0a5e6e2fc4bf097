"""The agent's local ledger: jobs, evidence and the transactional outbox of money."""

from agent.ledger.errors import (
    InvalidTransition,
    JobInFlight,
    JobNotFound,
    LedgerError,
    SchemaError,
)
from agent.ledger.models import Evidence, JobRow, NewJob, Txn
from agent.ledger.reasons import REASONS, reason_text
from agent.ledger.store import Ledger

__all__ = [
    "REASONS",
    "Evidence",
    "InvalidTransition",
    "JobInFlight",
    "JobNotFound",
    "JobRow",
    "Ledger",
    "LedgerError",
    "NewJob",
    "SchemaError",
    "Txn",
    "reason_text",
]
