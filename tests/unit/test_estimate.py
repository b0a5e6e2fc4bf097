"""A held job's estimate: impressions from pages and copies, priced by sides and colour, or a
deposit when nobody could count the pages; the credit check and the config that set it."""

from __future__ import annotations

import pytest

from agent.accounts import Credit
from agent.api.protocol import ApiError
from agent.config import ConfigError, config_from_dict
from agent.denial import check_credit
from agent.estimate import Estimate, estimate, job_impressions, two_sided
from agent.pricing import DEPOSIT_IMPRESSIONS, MediaPrices, PriceTable
from drivers.ipp.models import JobInfo
from drivers.ipp.tags import JobState

PRICES = PriceTable(media={
    "default": MediaPrices(mono_simplex=10, mono_duplex=7, color_simplex=50, color_duplex=40),
    "a3": MediaPrices(mono_simplex=20),
}, job_fee=5)


def job(impressions: int | None, *, copies: int = 1, sides: str = "one-sided",
        color: bool = False, media: str | None = None) -> JobInfo:
    return JobInfo(id=1, name="doc", user="alice", state=JobState.PENDING_HELD,
                   state_reasons=(), impressions=impressions, impressions_completed=None,
                   sheets_completed=None, copies=copies, sides=sides, color=color, media=media,
                   hold_until="indefinite", created_at=None, processing_at=None,
                   completed_at=None)


@pytest.mark.parametrize(("pages", "copies", "impressions"), [
    (0, 1, 0), (1, 1, 1), (5, 1, 5), (5, 2, 10), (38, 3, 114),
])
def test_impressions_are_pages_times_copies(pages: int, copies: int, impressions: int) -> None:
    assert job_impressions(pages, copies) == impressions


@pytest.mark.parametrize(("pages", "copies"), [(-1, 1), (3, 0)])
def test_impossible_jobs_are_refused(pages: int, copies: int) -> None:
    with pytest.raises(ValueError, match="pages >= 0 and copies >= 1"):
        job_impressions(pages, copies)


@pytest.mark.parametrize(("sides", "duplex"), [
    ("one-sided", False), ("two-sided-long-edge", True), ("two-sided-short-edge", True)])
def test_sides(sides: str, duplex: bool) -> None:
    assert two_sided(sides) is duplex


def test_two_sided_changes_the_price_not_the_impressions() -> None:
    """5 pages x 2 copies two-sided: 10 impressions (on 6 sheets), at the duplex price."""
    one = estimate(job(job_impressions(5, 2), copies=2), PRICES)
    two = estimate(job(job_impressions(5, 2), copies=2, sides="two-sided-long-edge"), PRICES)
    assert one == Estimate("counted", 5, 10, 10 * 10 + 5)
    assert two == Estimate("counted", 5, 10, 10 * 7 + 5)


def test_colour_and_media_are_priced() -> None:
    assert estimate(job(3, color=True), PRICES).cost == 3 * 50 + 5
    assert estimate(job(4, color=True, sides="two-sided-short-edge"), PRICES).cost == 4 * 40 + 5
    assert estimate(job(2, media="iso_a3_297x420mm"), PRICES).cost == 2 * 20 + 5


def test_an_empty_document_costs_nothing() -> None:
    assert estimate(job(0, copies=3), PRICES) == Estimate("counted", 0, 0, 0)


def test_uncounted_job_holds_the_configured_deposit() -> None:
    prices = PriceTable(media=PRICES.media, job_fee=5, uncounted_deposit=200)
    assert estimate(job(None, copies=4, color=True), prices) == Estimate("deposit", None, 0, 200)


def test_deposit_by_default_is_ten_impressions_of_the_jobs_kind() -> None:
    """Never 0 on a priced printer (issue 10), and in its own price level and currency."""
    assert DEPOSIT_IMPRESSIONS == 10
    assert estimate(job(None), PRICES).cost == 10 * 10 + 5
    assert estimate(job(None, color=True, sides="two-sided-long-edge"), PRICES).cost == 405
    assert estimate(job(None), PriceTable()).cost == 0  # a free printer stays free


def test_a_deposit_is_named_in_the_denial() -> None:
    with pytest.raises(ApiError) as denied:
        check_credit(Credit(balance=40), 242, "EUR", deposit=200)
    assert denied.value.message == ("Print denied: balance 0.40, job costs 2.42 (including a "
                                    "deposit of 2.00 for pages that cannot be counted)")
    assert denied.value.data == {"kind": "denied", "balance": 40, "cost": 242, "deposit": 200}
    with pytest.raises(ApiError, match=r"^Print denied: balance 0.40, job costs 0.42$"):
        check_credit(Credit(balance=40), 42, "EUR")
    check_credit(Credit(balance=40), 40, "EUR", deposit=40)
    check_credit(Credit(balance=40, restricted=False), 10_000, "EUR", deposit=200)


# ----- configuration --------------------------------------------------------------------


def config(prices: dict[str, object] | None = None, **printer: object) -> dict[str, object]:
    data: dict[str, object] = {
        "device": {"id": "pi-1", "site": "lab"},
        "printer": {"ipp_uri": "ipp://127.0.0.1/ipp/print", **printer},
        "mqtt": {"host": "127.0.0.1"},
    }
    if prices is not None:
        data["prices"] = prices
    return data


def test_deposit_and_document_bounds_from_config() -> None:
    loaded = config_from_dict(config({"uncounted_deposit": "2.50"}, max_document_mb=8,
                                     document_timeout_s=5), "agent.toml")
    assert loaded.prices.uncounted_deposit == 250
    assert (loaded.printer.max_document_mb, loaded.printer.document_timeout_s) == (8, 5.0)
    defaults = config_from_dict(config(), "agent.toml")
    assert defaults.prices.uncounted_deposit is None
    assert (defaults.printer.max_document_mb, defaults.printer.document_timeout_s) == (64, 30.0)


@pytest.mark.parametrize(("data", "message"), [
    (config({"uncounted_deposit": "-1"}),
     "agent.toml: [prices] uncounted_deposit must not be negative"),
    (config({"uncounted_deposit": "0.105"}),
     "agent.toml: [prices] uncounted_deposit: EUR amounts have at most 2 decimals, got '0.105'"),
    (config(max_document_mb=0), "agent.toml: [printer] max_document_mb: must be >= 1, got 0"),
    (config(max_document_mb=4096),
     "agent.toml: [printer] max_document_mb: must be <= 1024, got 4096"),
    (config(document_timeout_s=0),
     "agent.toml: [printer] document_timeout_s: must be > 0.0, got 0"),
])
def test_bad_values_are_named_in_plain_words(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict(data, "agent.toml")
    assert str(refused.value) == message
