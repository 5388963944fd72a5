"""The PostgreSQL test fixtures' connection check (tests/conftest.py `PostgresProbe`).

A hiccup must cost at most the test it hit, never every later PostgreSQL test, while a
server that is simply not there still skips each test at the price of one refused
connection (and fails it under CI=true). The server here is a stand-in whose answers the
test scripts; no PostgreSQL is needed.
"""

from __future__ import annotations

import pytest

from tests import conftest
from tests.conftest import PostgresProbe

REFUSED = ConnectionRefusedError(111, "Connection refused")


class Server:
    """A stand-in for the server: refuses the next `down` connections, then accepts."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.connections = 0

    async def connect(self) -> None:
        self.connections += 1
        if self.down:
            self.down -= 1
            raise REFUSED


class Waits:
    """Records the backoff instead of sleeping it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def test_a_hiccup_is_retried_within_the_test() -> None:
    """Two refusals, then an answer: the first test already runs, after a short backoff."""
    server, waits = Server(down=2), Waits()
    probe = PostgresProbe(server.connect, sleep=waits)
    assert await probe.problem() is None
    assert (server.connections, waits.seconds) == (3, [0.2, 0.4])


async def test_a_failed_check_does_not_skip_later_tests() -> None:
    """Down for one whole check (that test skips), up for the next: the next test runs, and
    the server, once found, is not asked again."""
    server, waits = Server(down=3), Waits()
    probe = PostgresProbe(server.connect, sleep=waits)
    assert await probe.problem() == f"ConnectionRefusedError: {REFUSED}"
    assert await probe.problem() is None
    assert await probe.problem() is None
    assert server.connections == 4


async def test_an_absent_server_costs_later_tests_one_attempt_each() -> None:
    """Never there: the first test tries three times, each later one once, without waiting."""
    server, waits = Server(down=1000), Waits()
    probe = PostgresProbe(server.connect, sleep=waits)
    for _ in range(5):
        assert await probe.problem() == f"ConnectionRefusedError: {REFUSED}"
    assert (server.connections, len(waits.seconds)) == (3 + 4, 2)


async def test_an_unexpected_error_is_not_taken_for_an_absent_server() -> None:
    """Only connection errors mean "no server": a bug in the check is raised, not skipped."""

    async def broken() -> None:
        raise KeyError("a bug")

    probe = PostgresProbe(broken, errors=(OSError,))
    with pytest.raises(KeyError):
        await probe.problem()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
async def test_no_server_skips_the_test_or_fails_it_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    """`postgres_url` skips a PostgreSQL test without a server, and fails it under CI=true,
    naming how to start one."""
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(conftest, "_probe", PostgresProbe(Server(1000).connect, sleep=Waits()))
    with pytest.raises(outcome, match="pg_ctlcluster --skip-systemctl-redirect"):
        await conftest.postgres_url()
