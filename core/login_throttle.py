"""Throttling of failed logins, counted in the database.

The database, not memory or Redis: it is the one store every backend
instance already shares (SQLite for one instance, PostgreSQL for
several), so a guesser gains nothing by spreading over instances, and no
new service has to be run.  A failed login is one short insert; the
counts are index scans over the last 15 minutes.

Only failures count, so any number of people logging in correctly from
one address (forty agents of an office behind one NAT at a shift change)
are never refused.  Three limits, all over the last 15 minutes:

* one username from one address: 5 failures (someone guessing one account);
* one username from anywhere: 20 failures (guessing spread over addresses);
* one address, any usernames: 100 failures (spraying many accounts; forty
  agents mistyping twice each stay below it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime

WINDOW = timedelta(minutes=15)
PER_USER_AND_ADDRESS = 5
PER_USER = 20
PER_ADDRESS = 100


class LoginFailure(Base):
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Throttled:
    """Refused for now; ``retry_after`` seconds until the count falls below its limit."""

    retry_after: int
    reason: str
    key: tuple[str, ...] = ()  # what is throttled: ("user+address", u, a), ("user", u) ...


class RecentRefusals:
    """This instance's memory of throttled keys, so that a client hammering
    while refused costs no database work (the database stays the record
    every instance shares; this only saves asking it again too soon)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._until: dict[tuple[str, ...], tuple[float, Throttled]] = {}
        self._limit = limit

    def check(self, username: str, address: str, now: float) -> Throttled | None:
        for key in (("user+address", username[:64], address), ("user", username[:64]),
                    ("address", address)):
            held = self._until.get(key)
            if held is not None:
                until, throttled = held
                if now < until:
                    return Throttled(max(1, int(until - now) + 1), throttled.reason, key)
                del self._until[key]
        return None

    def remember(self, throttled: Throttled, now: float) -> None:
        if len(self._until) >= self._limit:
            self._until = {k: v for k, v in self._until.items() if v[0] > now}
            if len(self._until) >= self._limit:
                return  # a flood of distinct keys: the database answers them
        self._until[throttled.key] = (now + throttled.retry_after, throttled)


def _retry_after(session: Session, where: list, limit: int, now: datetime) -> int:  # type: ignore[type-arg]
    # The limit-th newest failure is the one whose expiry lets the next try in.
    oldest_that_counts = session.scalar(
        select(LoginFailure.at).where(*where).order_by(LoginFailure.at.desc())
        .offset(limit - 1).limit(1))
    if oldest_that_counts is None:
        return 1
    return max(1, int((oldest_that_counts + WINDOW - now).total_seconds()) + 1)


def check(session: Session, username: str, address: str, now: datetime) -> Throttled | None:
    """None when a login by ``username`` from ``address`` may be tried now."""
    since = LoginFailure.at > now - WINDOW
    username = username[:64]
    for where, limit, reason, key in (
        ([since, LoginFailure.username == username, LoginFailure.address == address],
         PER_USER_AND_ADDRESS, "too many failed logins for this user from this address",
         ("user+address", username, address)),
        ([since, LoginFailure.username == username], PER_USER,
         "too many failed logins for this user", ("user", username)),
        ([since, LoginFailure.address == address], PER_ADDRESS,
         "too many failed logins from this address", ("address", address)),
    ):
        count = session.scalar(select(func.count()).select_from(LoginFailure).where(*where)) or 0
        if count >= limit:
            return Throttled(_retry_after(session, where, limit, now), reason, key)
    return None


def record_failure(session: Session, username: str, address: str, now: datetime) -> None:
    session.add(LoginFailure(username=username[:64], address=address[:64], at=now))


def purge(session: Session, now: datetime) -> int:
    """Forget failures older than the window; returns how many."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
