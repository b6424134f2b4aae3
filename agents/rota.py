"""The 六班四运转 rota: six teams, four shifts a day, one team per shift.

Default shifts are 00-06, 06-12, 12-18 and 18-24 local time.  The
rotation pattern says what one team does on each day of the cycle: the
default ``(0, 1, 2, 3, None, None)`` is shift 0, 1, 2, 3 on four
consecutive days (forward rotation: each shift starts six hours later than
the one before, so the rest between them is 24 h), then two days off.
Team ``i`` runs the pattern ``i * cycle / team_count`` days behind team 0,
so with six teams team ``i`` works shift ``s`` on day ``d`` (days counted
from ``RotaConfig.epoch``) iff ``(d - s - i) mod 6 == 0``; each day four
teams work and two rest.

Times in :class:`ShiftSlot` are naive local wall-clock datetimes; the
functions taking an aware datetime convert with the ``tz`` they are given.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

DEFAULT_SHIFT_STARTS: tuple[time, ...] = (time(0), time(6), time(12), time(18))
HOUR = timedelta(hours=1)


class RotaError(ValueError):
    """A rota configuration that breaks a rule; the message lists every problem."""


@dataclass(frozen=True)
class RotaConfig:
    """How the rota is laid out.

    ``shift_starts``: local start times, strictly increasing within a day;
    each shift ends where the next starts (the last ends at the first start
    of the next day).  ``epoch``: day 0, on which team 0 starts its pattern.
    ``pattern``: team 0's shift index on each day of the cycle (None: rest);
    its length must be a multiple of ``team_count``.  ``min_on_duty``: the
    fewest agents a shift may have before its hours count as short.
    """

    shift_starts: tuple[time, ...] = DEFAULT_SHIFT_STARTS
    team_count: int = 6
    epoch: date = date(2026, 1, 1)
    min_rest_hours: float = 12.0
    pattern: tuple[int | None, ...] | None = None  # None: each shift once, then rest days
    min_on_duty: int = 1

    def __post_init__(self) -> None:
        if not self.shift_starts:
            raise RotaError("a rota needs at least one shift")
        if any(b <= a for a, b in zip(self.shift_starts, self.shift_starts[1:], strict=False)):
            raise RotaError("shift start times must be strictly increasing within the day")
        if self.team_count < 1:
            raise RotaError("a rota needs at least one team")
        if self.min_rest_hours < 0:
            raise RotaError("minimum rest cannot be negative")
        if self.min_on_duty < 0:
            raise RotaError("the minimum on duty cannot be negative")
        if self.pattern is None:
            # Frozen dataclass: the derived default is set once, here.
            object.__setattr__(self, "pattern", default_pattern(self.shifts_per_day,
                                                                self.team_count))
        assert self.pattern is not None
        if not self.pattern or len(self.pattern) % self.team_count:
            raise RotaError(f"the pattern's length ({len(self.pattern)} days) must be a "
                            f"multiple of the team count ({self.team_count})")
        bad = [p for p in self.pattern if p is not None and not 0 <= p < len(self.shift_starts)]
        if bad:
            raise RotaError(f"the pattern names shifts that do not exist: {bad}")

    @property
    def shifts_per_day(self) -> int:
        return len(self.shift_starts)

    @property
    def cycle(self) -> tuple[int | None, ...]:
        """The pattern (never None once constructed)."""
        assert self.pattern is not None
        return self.pattern

    @property
    def cycle_days(self) -> int:
        """Days after which the whole rota repeats."""
        return len(self.cycle)

    @property
    def team_step(self) -> int:
        """Days each team runs behind the one before it in the pattern."""
        return len(self.cycle) // self.team_count


def default_pattern(shifts: int, teams: int) -> tuple[int | None, ...]:
    """Each shift once on consecutive days, forward, then rest to fill the cycle."""
    if teams < shifts:
        raise RotaError(f"{teams} teams cannot cover {shifts} shifts a day one team at a time; "
                        "give a pattern")
    return tuple(range(shifts)) + (None,) * (teams - shifts)


def parse_pattern(text: str) -> tuple[int | None, ...]:
    """"0,1,2,3,-,-" -> (0, 1, 2, 3, None, None); shift numbers count from 0."""
    out: list[int | None] = []
    for part in text.split(","):
        part = part.strip()
        if part in ("-", "", "rest"):
            out.append(None)
        elif part.isdigit():
            out.append(int(part))
        else:
            raise RotaError(f"pattern entries are shift numbers or '-', not {part!r}")
    return tuple(out)


def format_pattern(pattern: tuple[int | None, ...]) -> str:
    return ",".join("-" if p is None else str(p) for p in pattern)


@dataclass(frozen=True)
class ShiftSlot:
    """One shift on one day and the team working it (``day`` is the day it starts)."""

    day: date
    index: int
    start: datetime
    end: datetime
    team_index: int

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR


def teams_for(config: RotaConfig, day: date, index: int) -> list[int]:
    """Every team working shift ``index`` on ``day`` (one in a sound pattern)."""
    d = (day - config.epoch).days
    return [team for team in range(config.team_count)
            if config.cycle[(d - team * config.team_step) % config.cycle_days] == index]


def team_for(config: RotaConfig, day: date, index: int) -> int:
    """The team working shift ``index`` on ``day``; -1 when the pattern leaves it empty."""
    teams = teams_for(config, day, index)
    return teams[0] if teams else -1


def slot(config: RotaConfig, day: date, index: int, team_index: int | None = None) -> ShiftSlot:
    """Shift ``index`` of ``day`` with its local start, end and team."""
    starts = config.shift_starts
    start = datetime.combine(day, starts[index])
    if index + 1 < len(starts):
        end = datetime.combine(day, starts[index + 1])
    else:
        end = datetime.combine(day + timedelta(days=1), starts[0])
    team = team_for(config, day, index) if team_index is None else team_index
    return ShiftSlot(day, index, start, end, team)


def shift_at(config: RotaConfig, local_dt: datetime) -> ShiftSlot:
    """The shift running at a local wall-clock time (an aware value is read as its wall time)."""
    wall = local_dt.replace(tzinfo=None)
    starts = config.shift_starts
    day, clock = wall.date(), wall.time()
    if clock < starts[0]:
        # Before the first start: still the previous day's last shift.
        return slot(config, day - timedelta(days=1), len(starts) - 1)
    return slot(config, day, bisect_right(starts, clock) - 1)


def _local(aware_dt: datetime, tz: tzinfo) -> datetime:
    if aware_dt.tzinfo is None:
        raise ValueError("expected a timezone-aware datetime")
    return aware_dt.astimezone(tz).replace(tzinfo=None)


def team_on_duty(config: RotaConfig, aware_dt: datetime, tz: tzinfo) -> int:
    """The rota index of the team on duty at an instant."""
    return shift_at(config, _local(aware_dt, tz)).team_index


def next_shift_change(config: RotaConfig, aware_dt: datetime, tz: tzinfo) -> datetime:
    """When the shift running at ``aware_dt`` ends (aware, in ``tz``)."""
    return shift_at(config, _local(aware_dt, tz)).end.replace(tzinfo=tz)


def generate(config: RotaConfig, start_date: date, days: int) -> list[ShiftSlot]:
    """Every shift of ``days`` days from ``start_date``, in time order.

    One slot per team working a shift: a shift nobody works is absent (and
    shows in :func:`check_coverage`), one worked by two teams appears twice.
    """
    return [
        slot(config, start_date + timedelta(days=d), index, team)
        for d in range(days)
        for index in range(config.shifts_per_day)
        for team in teams_for(config, start_date + timedelta(days=d), index)
    ]


def backward_rotations(config: RotaConfig) -> list[str]:
    """Where the pattern moves to an earlier shift without a day off between.

    Forward rotation (morning, then afternoon, then night) lets the body
    clock follow; going backwards the next day shortens sleep.
    """
    pattern, problems = config.cycle, []
    for day, today in enumerate(pattern):
        tomorrow = pattern[(day + 1) % len(pattern)]
        if today is not None and tomorrow is not None and tomorrow < today:
            problems.append(f"day {day + 1} shift {today} is followed by the earlier "
                            f"shift {tomorrow} without a day off")
    return problems


def _floor_hour(dt: datetime) -> datetime:
    return dt.replace(minute=0, second=0, microsecond=0)


def check_coverage(
    slots: Iterable[ShiftSlot], start: datetime | None = None, end: datetime | None = None
) -> list[datetime]:
    """Start times of the hours in [start, end) not fully covered by some shift.

    Defaults to the span of the slots.  An empty list means full coverage.
    """
    ordered = sorted(slots, key=lambda s: s.start)
    if not ordered and (start is None or end is None):
        return []
    lo = start if start is not None else ordered[0].start
    hi = end if end is not None else max(s.end for s in ordered)
    merged: list[list[datetime]] = []
    for s in ordered:
        if merged and s.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], s.end)
        else:
            merged.append([s.start, s.end])
    merged_starts = [m[0] for m in merged]
    uncovered: list[datetime] = []
    hour = _floor_hour(lo)
    while hour < hi:
        # The part of this hour inside [lo, hi) must sit in one merged run.
        i = bisect_right(merged_starts, max(hour, lo)) - 1
        if i < 0 or merged[i][1] < min(hour + HOUR, hi):
            uncovered.append(hour)
        hour += HOUR
    return uncovered


def rest_violations(slots: Sequence[ShiftSlot], min_rest_hours: float) -> list[str]:
    """One message per pair of consecutive shifts of a team with too little rest between."""
    by_team: dict[int, list[ShiftSlot]] = defaultdict(list)
    for s in slots:
        by_team[s.team_index].append(s)
    problems = []
    for team, own in sorted(by_team.items()):
        own.sort(key=lambda s: s.start)
        for prev, nxt in zip(own, own[1:], strict=False):
            rest = (nxt.start - prev.end) / HOUR
            if rest < min_rest_hours:
                problems.append(
                    f"team {team} rests {rest:g} h between {prev.end:%Y-%m-%d %H:%M} and "
                    f"{nxt.start:%Y-%m-%d %H:%M} (minimum {min_rest_hours:g} h)"
                )
    return problems


def hours_by_team(slots: Iterable[ShiftSlot], team_count: int) -> dict[int, float]:
    """Hours worked per team (every team present, zero if it never works)."""
    hours = {team: 0.0 for team in range(team_count)}
    for s in slots:
        hours[s.team_index] += s.hours
    return hours


def validate(config: RotaConfig) -> None:
    """Check the rest rule, equal work and 24-hour coverage; raise :class:`RotaError`.

    The pattern repeats every ``cycle_days`` days, so two cycles (plus a
    day, for the rest across the wrap-around) show every case.
    """
    cycle = config.cycle_days
    slots = generate(config, config.epoch, 2 * cycle + 1)
    problems = rest_violations(slots, config.min_rest_hours)
    problems += ["backward rotation: " + p for p in backward_rotations(config)]
    one_cycle = [s for s in slots if (s.day - config.epoch).days < cycle]
    hours = hours_by_team(one_cycle, config.team_count)
    if len(set(hours.values())) > 1:
        listing = ", ".join(f"team {t}: {h:g} h" for t, h in hours.items())
        problems.append(f"unequal work over a {cycle}-day cycle ({listing})")
    gaps = check_coverage(slots, datetime.combine(config.epoch, config.shift_starts[0]),
                          datetime.combine(config.epoch + timedelta(days=2 * cycle + 1),
                                           config.shift_starts[0]))
    if gaps:
        problems.append("hours without a team: " + ", ".join(f"{g:%Y-%m-%d %H:00}" for g in gaps))
    if problems:
        raise RotaError("rota breaks its rules: " + "; ".join(problems))
