"""The IPP client's errors: every transport, HTTP and codec failure maps to one of these."""

from __future__ import annotations

from drivers.ipp.tags import status_name


class IppError(Exception):
    """Talking to the printer over IPP failed; str(exc) says why in plain words."""


class IppUnreachable(IppError):
    """No answer: connection refused, reset or timed out."""


class IppRefused(IppError):
    """The printer answered with an error status (not-found, not-possible, ...)."""

    def __init__(self, operation: str, status: int, status_message: str | None) -> None:
        self.status = status
        self.status_message = status_message
        detail = f": {status_message}" if status_message else ""
        super().__init__(f"printer refused {operation} with {status_name(status)}{detail}")


class IppProtocolError(IppError):
    """The printer answered, but not with a valid IPP response."""


class IppDocumentTooLarge(IppError):
    """A job's document is larger than the caller will read; nothing of it is kept."""

    def __init__(self, job_id: int, limit: int) -> None:
        self.job_id = job_id
        self.limit = limit
        super().__init__(f"the document of job {job_id} is larger than {limit:,} bytes")
