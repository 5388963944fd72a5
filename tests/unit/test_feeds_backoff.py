"""The backoff policy: when a failing feed is polled again, and when it counts as broken."""

from __future__ import annotations

from bot.feeds import Backoff


def test_delay_doubles_from_the_interval_up_to_the_cap() -> None:
    policy = Backoff(interval=900, cap=6 * 3600, broken_after=8)
    delays = [policy.delay(n) for n in range(8)]
    assert delays == [900, 1800, 3600, 7200, 14400, 21600, 21600, 21600]


def test_a_feed_that_failed_for_years_is_still_capped() -> None:
    assert Backoff(interval=900, cap=3600).delay(10**9) == 3600


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = Backoff(interval=60, cap=3600)
    assert policy.delay(1, retry_after=1000) == 1000
    assert policy.delay(1, retry_after=10) == 120  # never sooner than the backoff
    assert policy.delay(1, retry_after=86400) == 3600


def test_broken_after_the_threshold() -> None:
    policy = Backoff(broken_after=3)
    assert [policy.broken(n) for n in range(5)] == [False, False, False, True, True]
