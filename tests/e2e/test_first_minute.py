"""The caller's first minute (issue 15): answer to queue per IVR path, on
the built-in PBX with the production dialplan and prompts, in simulated
time (deterministic: no wall clock), against the targets."""

from __future__ import annotations

import pytest

from tests.e2e.first_minute import ALWAYS_PATHS, PATHS, TARGETS, measure


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("first-minute")
    return measure(f"sqlite:///{tmp / 'h.db'}", tmp)


@pytest.fixture(scope="module")
def always(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("first-minute-always")
    return measure(f"sqlite:///{tmp / 'h.db'}", tmp, ALWAYS_PATHS,
                   settings={"description_when": "always"})


@pytest.mark.parametrize("path", [p.name for p in PATHS])
def test_every_path_reaches_the_queue_within_its_target(measured, path):
    assert measured.seconds[path] <= TARGETS[path], measured.timelines[path]


@pytest.mark.parametrize("path", [p.name for p in ALWAYS_PATHS])
def test_description_asked_of_everyone_still_meets_the_targets(always, path):
    assert always.seconds[path] <= TARGETS[path], always.timelines[path]


def test_a_key_in_the_greeting_chooses_and_nothing_stands_before_the_queue(measured):
    events = [e for _, e in measured.timelines["key in greeting, no description"]]
    assert events[:4] == ["ringing", "answered", "dtmf 2", "queued hotline-complaint"]


def test_the_describer_is_recorded_and_the_silent_caller_is_not_asked(measured):
    assert "recorded" in [e for _, e in measured.timelines[
        "key in greeting, describes 5 s (agents busy)"]]
    assert "recorded" not in [e for _, e in measured.timelines["presses nothing"]]
    assert "queued hotline-general" in [e for _, e in measured.timelines["presses nothing"]]


def test_the_callback_offer_taken_ends_the_call_without_queueing(measured):
    events = [e for _, e in measured.timelines["callback offer taken (1)"]]
    assert not any(e.startswith("queued") for e in events) and events[-1] == "hangup"
