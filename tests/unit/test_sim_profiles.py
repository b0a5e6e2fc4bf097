"""Quirk profiles as data: each one valid on its own, combined without surprises."""

from __future__ import annotations

import pytest

from simulator.profiles import (
    AGENT_DEFAULT_PROFILE,
    DEVICE_FIELDS,
    PROFILES,
    QUIRK_FIELDS,
    ProfileError,
    Quirks,
    combine,
    parse_names,
)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_sets_only_known_things_and_differs_from_the_tidy_device(
        name: str) -> None:
    profile = PROFILES[name]
    assert set(profile.changes) <= QUIRK_FIELDS | DEVICE_FIELDS
    selection = combine([name])
    assert (selection.quirks, dict(selection.device)) != (Quirks(), {})
    assert selection.names == (name,)


def test_names_parse_from_text_or_list_once_each_in_order() -> None:
    assert parse_names(" uptime-only, ,vendor-split,uptime-only") == ("uptime-only",
                                                                      "vendor-split")
    assert parse_names(["a", "b"]) == ("a", "b")
    assert combine("").quirks == Quirks()


def test_combined_profiles_add_up_and_pick_the_vendor_agent_profile() -> None:
    selection = combine("hrdevice-2,vendor-split,no-job-counts,uptime-only")
    assert (selection.quirks.device_index, selection.quirks.vendor_counters,
            selection.quirks.counter_unit, selection.quirks.job_times) == (2, True, False,
                                                                           "uptime-only")
    assert dict(selection.device) == {"ipp_counters": False}
    assert selection.agent_snmp_profile == "konica-minolta"
    assert combine("two-markers").agent_snmp_profile == AGENT_DEFAULT_PROFILE


@pytest.mark.parametrize(("names", "message"), [
    ("uptime-only,clock-1970,nope", "no quirk profile named 'nope'; available: clock-1970, "),
    ("no-job-times,uptime-only", "profiles 'no-job-times' and 'uptime-only' disagree about "
                                 "job_times"),
])
def test_bad_selections_say_why(names: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        combine(names)
