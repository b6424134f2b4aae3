"""Erlang C staffing: how many agents answer X% of calls within T seconds.

Traffic A (erlangs) = calls per hour x average handling time (s) / 3600.
The probability that a caller waits, with N agents, is Erlang C; it is
computed from Erlang B by the recurrence B(0) = 1,
B(k) = A B(k-1) / (k + A B(k-1)), which never forms A^N or N! and so stays
exact for hundreds of agents.  The share answered within T seconds is
1 - C exp(-(N - A) T / AHT).
"""

from __future__ import annotations

import math


def traffic_erlangs(calls_per_hour: float, aht_seconds: float) -> float:
    """Offered traffic in erlangs."""
    if calls_per_hour < 0 or aht_seconds < 0:
        raise ValueError("calls per hour and handling time cannot be negative")
    return calls_per_hour * aht_seconds / 3600.0


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability of ``agents`` servers with no queue (Erlang B)."""
    if traffic < 0 or agents < 0:
        raise ValueError("traffic and agents cannot be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(traffic_erlangs: float, agents: int) -> float:
    """Probability that a caller has to wait (Erlang C).

    1.0 when the agents cannot keep up (``agents <= traffic``): the queue
    grows without bound.  0.0 for no traffic.
    """
    if traffic_erlangs < 0 or agents < 0:
        raise ValueError("traffic and agents cannot be negative")
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return 1.0
    b = erlang_b(traffic_erlangs, agents)
    return agents * b / (agents - traffic_erlangs * (1 - b))


def service_level(
    calls_per_hour: float, aht_seconds: float, agents: int, target_seconds: float
) -> float:
    """Share of calls answered within ``target_seconds`` (0.0-1.0)."""
    if target_seconds < 0:
        raise ValueError("the answer-time target cannot be negative")
    traffic = traffic_erlangs(calls_per_hour, aht_seconds)
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(traffic, agents)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def average_speed_of_answer(calls_per_hour: float, aht_seconds: float, agents: int) -> float:
    """Mean wait in seconds over all calls (ASA); infinite when understaffed."""
    traffic = traffic_erlangs(calls_per_hour, aht_seconds)
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic, agents) * aht_seconds / (agents - traffic)


def agents_needed(
    calls_per_hour: float,
    aht_seconds: float,
    target_seconds: float = 15,
    service_level: float = 0.9,
) -> int:
    """The fewest agents answering ``service_level`` of calls within ``target_seconds``.

    Defaults follow DOMAIN.md (90% within 15 s).  0 when there is no
    traffic: a minimum night staffing is the caller's policy, not Erlang's.
    Shrinkage (breaks, training, after-call work beyond AHT) is not included.
    """
    if not 0 < service_level < 1:
        raise ValueError("the service-level goal must be between 0 and 1 (exclusive)")
    traffic = traffic_erlangs(calls_per_hour, aht_seconds)
    if traffic == 0:
        return 0
    agents = math.floor(traffic) + 1
    while _service_level(calls_per_hour, aht_seconds, agents, target_seconds) < service_level:
        agents += 1
    return agents


# agents_needed's keyword is named for its callers; this keeps the function reachable.
_service_level = service_level
