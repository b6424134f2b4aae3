"""Routing rules as data: validated on load, editable by an admin.

The rules say, beyond the menu's category-to-queue table: when a category
overflows to the general queue, which queue serves which hours, when
callers are offered a callback, which numbers a callback may dial, and how
long a description may be.  They are JSON; the newest ``routing_rules``
row is in force, the default below serves a fresh install.  Every problem
is reported at once, each with the path of the value at fault.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing import dial_patterns
from routing.dial_patterns import DEFAULT_CALLBACK_PATTERNS
from routing.models import RoutingRuleSet

log = logging.getLogger(__name__)

CATEGORIES = ("help", "complaint", "report", "consult", "suggest", "general")

DEFAULT_RULES: dict[str, Any] = {
    # Seconds a caller waits in a category queue before overflowing to the
    # general queue (0: never).
    "overflow_seconds": {"help": 120, "complaint": 120, "report": 120, "consult": 90,
                         "suggest": 180},
    # Hours when a category is served by another queue (local time; a range
    # may pass midnight).
    "time_rules": [
        {"from": "00:00", "to": "07:00", "categories": ["report", "suggest"],
         "queue": "hotline-general"},
    ],
    # Offer a callback when the estimated wait is longer than this (seconds).
    "callback_offer_seconds": 180,
    # Numbers a callback or 回访 may dial, as Asterisk dial patterns (routing/
    # dial_patterns.py): mainland mobiles and the city's landlines.  The same
    # list renders [callback-out].
    "callback_numbers": list(DEFAULT_CALLBACK_PATTERNS),
    # Extra queue priority for registered vulnerable callers (QUEUE_PRIO).
    "vulnerable_priority": 5,
    "description_max_seconds": 60,
    "description_silence_seconds": 3,
}


class RulesError(ValueError):
    """The rules are not valid; ``problems`` lists each, with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TimeRule:
    start: time
    end: time
    categories: tuple[str, ...]
    queue: str

    def applies(self, category: str, at: time) -> bool:
        if category not in self.categories:
            return False
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end  # passes midnight


@dataclass(frozen=True)
class RoutingRules:
    overflow_seconds: dict[str, int]
    time_rules: tuple[TimeRule, ...]
    callback_offer_seconds: int
    callback_numbers: tuple[re.Pattern[str], ...]
    vulnerable_priority: int
    description_max_seconds: int
    description_silence_seconds: int
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Any, known_queues: set[str] | None = None) -> RoutingRules:
        """Validate and build; raise :class:`RulesError` with every problem found."""
        problems: list[str] = []
        if not isinstance(data, dict):
            raise RulesError(["the rules must be a JSON object"])
        unknown = set(data) - set(DEFAULT_RULES)
        problems += [f"{key}: unknown setting" for key in sorted(unknown)]
        merged = {**DEFAULT_RULES, **data}
        overflow = _overflow(merged["overflow_seconds"], problems)
        rules = _time_rules(merged["time_rules"], known_queues, problems)
        patterns = _patterns(merged["callback_numbers"], problems)
        ints = {name: _int_in(merged[name], name, low, high, problems) for name, low, high in (
            ("callback_offer_seconds", 0, 3600), ("vulnerable_priority", 0, 100),
            ("description_max_seconds", 5, 300), ("description_silence_seconds", 1, 30))}
        if problems:
            raise RulesError(problems)
        return cls(overflow, tuple(rules), ints["callback_offer_seconds"], tuple(patterns),
                   ints["vulnerable_priority"], ints["description_max_seconds"],
                   ints["description_silence_seconds"], source=merged)

    def queue_for(self, category: str, default_queue: str, local: datetime) -> str:
        for rule in self.time_rules:
            if rule.applies(category, local.time()):
                return rule.queue
        return default_queue

    def callback_allowed(self, number: str) -> bool:
        return dial_patterns.allowed(number, self.callback_numbers)

    @property
    def callback_patterns(self) -> list[str]:
        """The dial patterns as written (what [callback-out] is rendered from)."""
        return list(self.source["callback_numbers"])

    def to_json(self) -> str:
        return json.dumps(self.source, ensure_ascii=False, sort_keys=True)


def _int_in(value: Any, path: str, low: int, high: int, problems: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(f"{path}: must be a whole number from {low} to {high}, got {value!r}")
        return low
    return value


def _overflow(value: Any, problems: list[str]) -> dict[str, int]:
    if not isinstance(value, dict):
        problems.append("overflow_seconds: must map categories to seconds")
        return {}
    out = {}
    for category, seconds in value.items():
        if category not in CATEGORIES or category == "general":
            problems.append(f"overflow_seconds.{category}: unknown category "
                            f"(one of {', '.join(CATEGORIES[:-1])})")
            continue
        out[category] = _int_in(seconds, f"overflow_seconds.{category}", 0, 3600, problems)
    return out


def _clock(value: Any, path: str, problems: list[str]) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        problems.append(f"{path}: expected HH:MM, got {value!r}")
        return time(0)


def _time_rules(value: Any, known_queues: set[str] | None, problems: list[str]) -> list[TimeRule]:
    if not isinstance(value, list):
        problems.append("time_rules: must be a list")
        return []
    rules = []
    for i, item in enumerate(value):
        path = f"time_rules[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: must be an object with from, to, categories, queue")
            continue
        start = _clock(item.get("from"), f"{path}.from", problems)
        end = _clock(item.get("to"), f"{path}.to", problems)
        if start == end:
            problems.append(f"{path}: from and to are the same time")
        categories = item.get("categories")
        if not isinstance(categories, list) or not categories or any(
                c not in CATEGORIES for c in categories):
            problems.append(f"{path}.categories: a non-empty list of {', '.join(CATEGORIES)}")
            categories = []
        queue = item.get("queue")
        if not isinstance(queue, str) or not queue:
            problems.append(f"{path}.queue: the name of a queue")
        elif known_queues is not None and queue not in known_queues:
            problems.append(f"{path}.queue: no queue named {queue!r}")
        rules.append(TimeRule(start, end, tuple(categories), str(queue)))
    return rules


def _patterns(value: Any, problems: list[str]) -> list[re.Pattern[str]]:
    if not isinstance(value, list) or not value:
        problems.append("callback_numbers: a non-empty list of Asterisk dial patterns "
                        "(such as _1[3-9]XXXXXXXXX)")
        return []
    out = []
    for i, item in enumerate(value):
        why = dial_patterns.problem(item)
        if why is not None:
            problems.append(f"callback_numbers[{i}]: {why}")
        else:
            out.append(dial_patterns.to_regex(item))
    return out


def _from_an_older_release(data: Any) -> Any:
    """Rules stored before callback_numbers were dial patterns held regular
    expressions ("^1[3-9]\\d{9}$"), which are no longer trusted: the
    default patterns serve until an admin states the list again."""
    numbers = data.get("callback_numbers") if isinstance(data, dict) else None
    # Only an older release can have stored what is not a valid pattern.
    if isinstance(numbers, list) and any(dial_patterns.problem(n) for n in numbers):
        log.warning("routing rules: callback_numbers are regular expressions from an older "
                    "release; using the default dial patterns until they are saved again")
        return {**data, "callback_numbers": list(DEFAULT_CALLBACK_PATTERNS)}
    return data


def load_rules(session: Session, known_queues: set[str] | None = None) -> RoutingRules:
    """The rules in force: the newest stored version, or the default."""
    row = session.scalars(select(RoutingRuleSet).order_by(RoutingRuleSet.id.desc())).first()
    if row is None:
        return RoutingRules.from_dict({}, known_queues)
    return RoutingRules.from_dict(_from_an_older_release(json.loads(row.data)), known_queues)


def store_rules(session: Session, data: Any, *, user_id: int | None, now: datetime,
                known_queues: set[str] | None = None) -> RoutingRules:
    """Validate and save a new version; raise :class:`RulesError` and save nothing if bad."""
    rules = RoutingRules.from_dict(data, known_queues)
    session.add(RoutingRuleSet(data=rules.to_json(), created_by=user_id, created_at=now))
    return rules


def normalize_number(number: str) -> str:
    """Digits only, without the +86/0086 country prefix: what lists are keyed by."""
    digits = "".join(ch for ch in number if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            return digits[len(prefix):]
    return digits
