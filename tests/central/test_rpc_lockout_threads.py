"""Sign-ins from one terminal on several rpc threads at once: the lockout still counts every
failure in order, so a terminal gets exactly `max_failures` tries, never one more."""

from __future__ import annotations

import threading

import msgspec

from central.codes import CodeBook
from central.rpc import LockoutPolicy, RpcHandler
from central.storage.ledger import SqlLedger
from contract import AuthResponse
from tests.central.conftest import LedgerAt

THREADS, TRIES, LIMIT = 8, 6, 5


def test_parallel_wrong_codes_from_one_terminal_get_exactly_the_limit(
        ledger_db: LedgerAt) -> None:
    codes = CodeBook.from_file(ledger_db.secret)
    policy = LockoutPolicy(max_failures=LIMIT, window_s=900)
    answers: list[str] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()

    def terminal_thread(n: int) -> None:
        rpc = RpcHandler(SqlLedger(ledger_db.url), codes, policy)  # as an rpc thread has
        try:
            start.wait()
            for i in range(TRIES):
                wrong = msgspec.json.encode({"method": "auth",
                                             "params": {"code": f"{900000 + n * 10 + i}"}})
                response = rpc.handle(wrong, "s1", "dev-a")
                assert isinstance(response, AuthResponse) and response.error is not None
                with lock:
                    answers.append(response.error.code)
        finally:
            rpc.ledger.close()

    threads = [threading.Thread(target=terminal_thread, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == THREADS * TRIES
    assert answers.count("wrong_code") == LIMIT, answers
    assert answers.count("locked") == THREADS * TRIES - LIMIT
