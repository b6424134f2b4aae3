"""The rota's rules over long periods and other configurations: coverage of
every hour, equal work, rest, forward rotation, the pattern setting."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest

from agents import rota
from agents.rota import RotaConfig, RotaError

EPOCH = date(2026, 1, 1)
EIGHT_WEEKS = 56
# Three eight-hour shifts, six teams: two mornings, two afternoons, two nights, six off.
THREE_SHIFTS = RotaConfig(shift_starts=(time(0), time(8), time(16)), team_count=6,
                          pattern=(0, 0, 1, 1, 2, 2, None, None, None, None, None, None),
                          epoch=EPOCH)


def hours_on_duty(slots: list[rota.ShiftSlot]) -> Counter[datetime]:
    per_hour: Counter[datetime] = Counter()
    for s in slots:
        hour = s.start
        while hour < s.end:
            per_hour[hour] += 1
            hour += timedelta(hours=1)
    return per_hour


@pytest.mark.parametrize("config", [RotaConfig(epoch=EPOCH), THREE_SHIFTS],
                         ids=["six-hour shifts", "eight-hour shifts"])
def test_given_eight_weeks_from_any_day_then_every_hour_has_exactly_one_team(config) -> None:
    for first in (EPOCH, date(2026, 3, 7), date(2027, 2, 28)):  # incl. a day before the epoch
        slots = rota.generate(config, first, EIGHT_WEEKS)
        start = datetime.combine(first, config.shift_starts[0])
        assert rota.check_coverage(slots, start, start + timedelta(days=EIGHT_WEEKS)) == []
        per_hour = hours_on_duty(slots)
        assert len(per_hour) == EIGHT_WEEKS * 24 and set(per_hour.values()) == {1}


@pytest.mark.parametrize("config", [RotaConfig(epoch=EPOCH), THREE_SHIFTS],
                         ids=["six-hour shifts", "eight-hour shifts"])
def test_given_eight_weeks_then_teams_work_equal_hours_up_to_the_unfinished_cycle(
        config) -> None:
    slots = rota.generate(config, EPOCH, EIGHT_WEEKS)
    hours = rota.hours_by_team(slots, config.team_count)
    shift_hours = 24 / config.shifts_per_day
    # Eight weeks is not a whole number of cycles: the days left over can give
    # a team at most one shift each more than another.
    left_over = EIGHT_WEEKS % config.cycle_days
    assert 0 < max(hours.values()) - min(hours.values()) <= shift_hours * left_over
    whole_cycles = EIGHT_WEEKS // config.cycle_days * config.cycle_days
    cycle_hours = rota.hours_by_team(rota.generate(config, EPOCH, whole_cycles), 6)
    assert len(set(cycle_hours.values())) == 1  # exactly equal over whole cycles


def test_given_default_rota_then_no_team_rests_less_than_twelve_hours_or_rotates_back() -> None:
    config = RotaConfig(epoch=EPOCH)
    slots = rota.generate(config, EPOCH, EIGHT_WEEKS)
    assert rota.rest_violations(slots, 12) == []
    assert rota.backward_rotations(config) == []
    for team in range(6):
        own = [s for s in slots if s.team_index == team]
        for a, b in zip(own, own[1:], strict=False):
            # forward: the next shift of a run of working days starts later in the day
            if (b.day - a.day).days == 1:
                assert b.index > a.index


def test_given_backward_pattern_then_validate_names_it() -> None:
    config = RotaConfig(pattern=(3, 2, 1, 0, None, None), epoch=EPOCH)
    with pytest.raises(RotaError, match="backward rotation: day 1 shift 3 is followed by the "
                       "earlier shift 2"):
        rota.validate(config)


def test_given_pattern_with_a_hole_then_uncovered_hours_are_named() -> None:
    config = RotaConfig(pattern=(0, 1, 2, None, None, None), epoch=EPOCH)
    with pytest.raises(RotaError, match="hours without a team: 2026-01-01 18:00"):
        rota.validate(config)
    gaps = rota.check_coverage(rota.generate(config, EPOCH, 1),
                               datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert gaps == [datetime(2026, 1, 1, 18) + timedelta(hours=h) for h in range(6)]


def test_given_longer_rest_rule_than_pattern_gives_then_refused() -> None:
    # Eight-hour shifts worked twice in a row: 16 h between them.
    with pytest.raises(RotaError, match="rests 16 h"):
        rota.validate(RotaConfig(**{**THREE_SHIFTS.__dict__, "min_rest_hours": 20}))
    rota.validate(THREE_SHIFTS)


def test_given_pattern_text_then_parsed_and_checked() -> None:
    assert rota.parse_pattern("0,1,2,3,-,-") == (0, 1, 2, 3, None, None)
    assert rota.format_pattern((0, None)) == "0,-"
    with pytest.raises(RotaError, match="not 'x'"):
        rota.parse_pattern("0,x")
    with pytest.raises(RotaError, match="multiple of the team count"):
        RotaConfig(pattern=(0, 1, 2, 3, None))
    with pytest.raises(RotaError, match="shifts that do not exist"):
        RotaConfig(pattern=(0, 1, 2, 7, None, None))
    assert RotaConfig().pattern == (0, 1, 2, 3, None, None)  # the documented default


def test_given_two_teams_on_a_shift_then_both_are_generated() -> None:
    config = RotaConfig(pattern=(0, 0, 1, 2, 3, None), epoch=EPOCH)
    teams = rota.teams_for(config, EPOCH, 0)
    # Team 5 runs five days behind team 0, so on day 0 it is on the pattern's day 1.
    assert teams == [0, 5]
    assert sum(1 for s in rota.generate(config, EPOCH, 1) if s.index == 0) == 2
