"""Which queue a caller goes to, from the menu key they pressed.

The table is data (the ``service_queues`` rows); the defaults below are
what a fresh install seeds.  Category names are those of work orders.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.models import RoutingRuleSet, ServiceQueue
from routing.rules import RoutingRules, load_rules

GENERAL_QUEUE = "hotline-general"
ROUTING_PART = "routing_rules"  # core.config_sync: the menu and the rules


def routing_stamp(session: Session) -> Hashable:
    """Moves when a version of the rules is stored or the menu's queues change."""
    queues = tuple(tuple(row) for row in session.execute(
        select(ServiceQueue.menu_key, ServiceQueue.name, ServiceQueue.category,
               ServiceQueue.label).order_by(ServiceQueue.menu_key)))
    return session.scalar(select(func.max(RoutingRuleSet.id))), queues


@dataclass(frozen=True)
class Route:
    key: str
    category: str  # help, complaint, report, consult, suggest, general
    queue: str
    label: str


DEFAULT_ROUTES = (
    Route("1", "help", "hotline-help", "求助"),
    Route("2", "complaint", "hotline-complaint", "投诉"),
    Route("3", "report", "hotline-report", "举报"),
    Route("4", "consult", "hotline-consult", "咨询"),
    Route("5", "suggest", "hotline-suggest", "建议"),
    Route("0", "general", GENERAL_QUEUE, "人工服务"),
)


class RoutingTable:
    """Menu key -> route; anything unknown -> the general queue."""

    def __init__(self, routes: tuple[Route, ...] | list[Route] = DEFAULT_ROUTES,
                 rules: RoutingRules | None = None) -> None:
        self._by_key = {r.key: r for r in routes}
        self.rules = rules or RoutingRules.from_dict({})
        self.general = next((r for r in routes if r.category == "general"),
                            Route("0", "general", GENERAL_QUEUE, "人工服务"))

    @classmethod
    def load(cls, session: Session) -> RoutingTable:
        rows = session.scalars(select(ServiceQueue).order_by(ServiceQueue.menu_key)).all()
        routes = [Route(r.menu_key, r.category, r.name, r.label) for r in rows] or DEFAULT_ROUTES
        queues = {r.queue for r in routes}
        return cls(routes, load_rules(session, queues))

    def for_category(self, category: str) -> Route:
        """The route serving a category (legacy lines, follow-up calls)."""
        return next((r for r in self._by_key.values() if r.category == category), self.general)

    def routes(self) -> list[Route]:
        return list(self._by_key.values())

    @property
    def valid_keys(self) -> str:
        return "".join(sorted(self._by_key))

    def for_key(self, key: str | None) -> Route | None:
        """The route for a menu key, or None when the key means nothing."""
        return self._by_key.get(key or "")

    def queues(self) -> list[str]:
        return sorted({r.queue for r in self._by_key.values()} | {self.general.queue})
