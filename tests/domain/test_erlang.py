"""Erlang C against published table values and an independent formula."""

from __future__ import annotations

import math

import pytest

from agents.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
    traffic_erlangs,
)

# Published Erlang C table, A = 10 erlangs (probability of waiting).
TABLE_A10 = {11: 0.6821, 12: 0.4494, 13: 0.2853, 14: 0.1741, 15: 0.1020, 16: 0.0573, 17: 0.0309}


def erlang_c_textbook(a: float, n: int) -> float:
    """The closed form with powers and factorials (fine for small n only)."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("agents", "expected"), sorted(TABLE_A10.items()))
def test_given_ten_erlangs_then_waiting_probability_matches_table(
    agents: int, expected: float
) -> None:
    assert erlang_c(10, agents) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(("a", "n"), [(0.5, 1), (2.3, 4), (7.5, 9), (24.0, 30), (55.5, 70)])
def test_given_small_systems_then_recurrence_equals_closed_form(a: float, n: int) -> None:
    assert erlang_c(a, n) == pytest.approx(erlang_c_textbook(a, n), rel=1e-12)


def test_given_classic_example_then_fourteen_agents_for_80_in_20() -> None:
    # 100 calls per half hour, 3-minute handling time: 10 erlangs.
    assert traffic_erlangs(200, 180) == pytest.approx(10)
    assert service_level(200, 180, 13, 20) == pytest.approx(0.7956, abs=1e-4)
    assert service_level(200, 180, 14, 20) == pytest.approx(0.8884, abs=1e-4)
    assert agents_needed(200, 180, target_seconds=20, service_level=0.8) == 14
    assert average_speed_of_answer(200, 180, 14) == pytest.approx(0.1741 * 180 / 4, abs=0.01)


def test_given_hotline_defaults_then_ninety_percent_in_fifteen_seconds() -> None:
    n = agents_needed(200, 180)
    assert service_level(200, 180, n, 15) >= 0.9 > service_level(200, 180, n - 1, 15)
    assert n == 15


def test_given_thousands_of_erlangs_then_no_overflow() -> None:
    n = agents_needed(60_000, 180)  # 3000 erlangs: A**N would overflow a float
    assert 3000 < n < 3100
    assert 0.0 < erlang_c(3000, n) < 1.0
    assert service_level(60_000, 180, n, 15) >= 0.9
    assert 0.0 <= erlang_b(3000, 3000) <= 1.0


def test_given_more_agents_then_service_level_rises() -> None:
    levels = [service_level(120, 240, n, 15) for n in range(9, 20)]
    assert levels == sorted(levels) and levels[-1] < 1.0


def test_given_too_few_agents_or_no_traffic_then_edge_values() -> None:
    assert erlang_c(10, 10) == 1.0 and service_level(200, 180, 10, 20) == 0.0
    assert average_speed_of_answer(200, 180, 9) == math.inf
    assert erlang_c(0, 3) == 0.0 and service_level(0, 180, 0, 15) == 1.0
    assert agents_needed(0, 180) == 0


def test_given_impossible_goal_or_negative_input_then_value_error() -> None:
    with pytest.raises(ValueError):
        agents_needed(100, 180, service_level=1.0)
    with pytest.raises(ValueError):
        erlang_c(-1, 3)
    with pytest.raises(ValueError):
        service_level(100, 180, 5, -1)
