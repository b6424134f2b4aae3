"""The 六班四运转 rota: coverage, rest, equal work, lookups."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agents import rota
from agents.rota import RotaConfig, RotaError

EPOCH = date(2026, 1, 1)
CONFIG = RotaConfig(epoch=EPOCH)
EIGHT_WEEKS = 56


def test_given_default_pattern_then_formula_holds_for_every_slot() -> None:
    for s in rota.generate(CONFIG, date(2025, 12, 1), 60):
        d = (s.day - EPOCH).days
        assert (d - s.index - s.team_index) % 6 == 0


def test_given_default_rota_then_each_team_works_four_rising_shifts_then_rests_two() -> None:
    schedule: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for s in rota.generate(CONFIG, EPOCH, 12):
        schedule[s.team_index][(s.day - EPOCH).days].append(s.index)
    for team in range(6):
        # Team i works shift 0 on day i, then one shift later each day.
        days = [schedule[team].get(team + k, []) for k in range(6)]
        assert days == [[0], [1], [2], [3], [], []]
        assert schedule[team].get(team + 6) == [0]  # and the cycle starts again


def test_given_eight_weeks_then_every_hour_covered_by_exactly_one_team() -> None:
    slots = rota.generate(CONFIG, EPOCH, EIGHT_WEEKS)
    start = datetime.combine(EPOCH, time(0))
    assert rota.check_coverage(slots, start, start + timedelta(days=EIGHT_WEEKS)) == []
    per_hour: Counter[datetime] = Counter()
    for s in slots:
        hour = s.start
        while hour < s.end:
            per_hour[hour] += 1
            hour += timedelta(hours=1)
    assert len(per_hour) == EIGHT_WEEKS * 24 and set(per_hour.values()) == {1}
    for day in range(EIGHT_WEEKS):
        on_duty = {s.team_index for s in slots if (s.day - EPOCH).days == day}
        assert len(on_duty) == 4  # the other two rest


def test_given_eight_weeks_then_rest_between_shifts_at_least_twelve_hours() -> None:
    slots = rota.generate(CONFIG, EPOCH, EIGHT_WEEKS)
    assert rota.rest_violations(slots, 12) == []
    by_team: dict[int, list[rota.ShiftSlot]] = defaultdict(list)
    for s in slots:
        by_team[s.team_index].append(s)
    rests = [b.start - a.end
             for own in by_team.values() for a, b in zip(own, own[1:], strict=False)]
    assert min(rests) == timedelta(hours=24)


def test_given_whole_cycles_then_equal_work_per_team() -> None:
    slots = rota.generate(CONFIG, EPOCH, 54)  # nine 6-day cycles within the eight weeks
    assert Counter(s.team_index for s in slots) == {team: 36 for team in range(6)}
    assert set(rota.hours_by_team(slots, 6).values()) == {216.0}


def test_given_local_time_then_shift_and_team_found() -> None:
    early = rota.shift_at(CONFIG, datetime(2026, 1, 1, 5, 59))
    assert (early.index, early.team_index) == (0, 0)
    assert early.start == datetime(2026, 1, 1, 0) and early.end == datetime(2026, 1, 1, 6)
    morning = rota.shift_at(CONFIG, datetime(2026, 1, 1, 6, 0))
    assert (morning.index, morning.team_index) == (1, 5)
    night = rota.shift_at(CONFIG, datetime(2026, 1, 2, 23, 59))
    assert (night.index, night.team_index, night.end) == (3, 4, datetime(2026, 1, 3, 0))
    before_epoch = rota.shift_at(CONFIG, datetime(2025, 12, 31, 12))
    assert before_epoch.team_index == (-1 - 2) % 6


def test_given_aware_instant_then_team_on_duty_and_next_change_in_local_time() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    instant = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # 08:00 in Baoji: shift 1
    assert rota.team_on_duty(CONFIG, instant, tz) == 5
    change = rota.next_shift_change(CONFIG, instant, tz)
    assert change == datetime(2026, 1, 1, 12, 0, tzinfo=tz)
    assert change.astimezone(UTC) == datetime(2026, 1, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        rota.team_on_duty(CONFIG, datetime(2026, 1, 1), tz)


def test_given_shifts_crossing_midnight_then_early_hours_belong_to_previous_day() -> None:
    config = RotaConfig(shift_starts=(time(2), time(8), time(14), time(20)), epoch=EPOCH)
    s = rota.shift_at(config, datetime(2026, 1, 2, 1, 30))
    assert (s.day, s.index) == (date(2026, 1, 1), 3)
    assert s.start == datetime(2026, 1, 1, 20) and s.end == datetime(2026, 1, 2, 2)
    rota.validate(config)


def test_given_default_config_then_validates() -> None:
    rota.validate(CONFIG)


def test_given_four_teams_then_back_to_back_shifts_break_the_rest_rule() -> None:
    with pytest.raises(RotaError, match="rests 0 h"):
        rota.validate(RotaConfig(team_count=4, epoch=EPOCH))


def test_given_stricter_rest_rule_then_default_pattern_refused() -> None:
    with pytest.raises(RotaError, match="minimum 30 h"):
        rota.validate(RotaConfig(min_rest_hours=30, epoch=EPOCH))


def test_given_missing_shift_then_its_hours_named() -> None:
    slots = rota.generate(CONFIG, EPOCH, 2)
    gap = slots.pop(5)  # day 1, 06-12
    missing = rota.check_coverage(slots)
    assert missing == [gap.start + timedelta(hours=h) for h in range(6)]


def test_given_bad_shift_starts_then_config_refused() -> None:
    with pytest.raises(RotaError, match="strictly increasing"):
        RotaConfig(shift_starts=(time(6), time(0)))
    with pytest.raises(RotaError, match="at least one shift"):
        RotaConfig(shift_starts=())
    with pytest.raises(RotaError, match="at least one team"):
        RotaConfig(team_count=0)
