"""One definition of each figure, whoever shows it: the per-department
roll-up counts 加派 parts as department_stats does (and a part's change alone
recounts its day); an answered order with an open part past due is overdue
in every view; the floor's service level is the reports' on the same calls.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.db import Database
from floor import figures
from reports.models import ReportDirty
from reports.query import ReportRequest, report
from reports.rollup import RollupConfig, day_bounds, refresh
from tests.domain.test_lifecycle import NOW, TZ, departments, dispatched
from tests.floor.test_figures import call
from tests.helpers import prepare_database
from worksheets import lifecycle, parts, review
from worksheets.models import WorkOrder
from worksheets.order_models import OrderPart
from worksheets.stats import department_stats, period_stats

CONFIG = RollupConfig(TZ)
DAY = NOW.astimezone(TZ).date()
START, END = day_bounds(DAY, TZ)


@pytest.fixture
def city(database_url: str) -> Iterator[Database]:
    prepare_database(database_url, NOW - timedelta(days=1))
    database = Database(database_url)
    yield database
    database.close()


def _due(db: Database, oid: int):
    return db.call(lambda s: s.get(WorkOrder, oid).due_at)


def _with_parts(db: Database, uid: str, lead: int, co: list[int]) -> int:
    oid = dispatched(db, uid, dept=lead)
    db.call(lambda s: parts.add(s, s.get(WorkOrder, oid), co, now=NOW, user_id=None))
    return oid


def _part_id(db: Database, oid: int, dept: int) -> int:
    return db.call(lambda s: s.scalar(select(OrderPart.id).where(
        OrderPart.order_id == oid, OrderPart.department_id == dept,
        OrderPart.status != "dropped")))


def _compare(db: Database, now) -> dict[int, dict]:
    """The roll-up's department rows equal department_stats for the day; the rows."""
    accounts = {r.department_id: r for r in db.call(lambda s: department_stats(
        s, START, END, now=now))}
    rows = db.call(lambda s: report(s, ReportRequest("department", "day", DAY, DAY),
                                    now=now))["totals"]
    assert rows
    for row in rows:
        account = accounts[int(row["key"])]
        assert (row["submitted"], row["closed"], row["closed_on_time"], row["overdue_now"]) == (
            account.received, account.closed, account.closed_on_time, account.overdue), row
        for name in ("completion_rate", "on_time_rate", "return_rate", "satisfaction_rate"):
            assert row[name] == getattr(account, name), (row["key"], name)
    return {int(r["key"]): r for r in rows}


def test_given_co_handling_parts_then_department_rollups_match_department_stats(city) -> None:
    lead, a, b, c = departments(city)[:4]
    # 1: lead with parts for a and b; a answers on time, b returns its part,
    #    which goes to c; c answers late; the hotline accepts: closed.
    one = _with_parts(city, "f.1", lead, [a, b])
    due = _due(city, one)
    city.call(lambda s: parts.answer(s, one, a, text="已配合", now=NOW + timedelta(hours=1),
                                     user_id=None))
    city.call(lambda s: parts.return_part(s, one, b, reason="非本单位", now=NOW, user_id=None))
    city.call(lambda s: parts.reassign(s, _part_id(city, one, b), department_id=c, now=NOW,
                                       user_id=None))
    city.call(lambda s: parts.answer(s, one, c, text="已处理", now=due + timedelta(hours=2),
                                     user_id=None))
    city.call(lambda s: lifecycle.reply(s, one, department_id=lead, text="已办", user_id=None,
                                        now=NOW + timedelta(hours=2)))
    city.call(lambda s: review.accept(s, one, now=due + timedelta(hours=3), user_id=None))
    # 2: a leads, lead holds a part it leaves open (overdue later).
    two = _with_parts(city, "f.2", a, [lead])
    # 3: lead answered, b's part still open: overdue for b only.
    three = _with_parts(city, "f.3", lead, [b])
    city.call(lambda s: lifecycle.reply(s, three, department_id=lead, text="已办", user_id=None,
                                        now=NOW + timedelta(hours=1)))
    now = due + timedelta(days=2)
    city.call(lambda s: refresh(s, CONFIG, now))
    rows = _compare(city, now)
    # c holds a part only: counted, closed, late; b returned one part, holds another
    assert (rows[c]["submitted"], rows[c]["closed"], rows[c]["closed_on_time"]) == (1, 1, 0)
    assert (rows[b]["submitted"], rows[b]["returned_by"], rows[b]["overdue_now"]) == (1, 1, 1)
    assert (rows[a]["submitted"], rows[a]["closed"], rows[a]["closed_on_time"]) == (2, 1, 1)
    assert rows[lead]["overdue_now"] == 1  # its part of two; three's lead has answered

    # A part's change alone (no order row written) marks its day: lead returns
    # its part of two, and the next refresh counts the return against it.
    assert city.call(lambda s: s.scalar(select(func.count()).select_from(ReportDirty))) == 0
    city.call(lambda s: parts.return_part(s, two, lead, reason="非本单位", now=now,
                                          user_id=None))
    assert city.call(lambda s: s.scalar(select(func.count()).select_from(ReportDirty))) > 0
    city.call(lambda s: refresh(s, CONFIG, now))
    assert _compare(city, now)[lead]["returned_by"] == 1


def test_given_an_answered_order_with_an_open_part_past_due_then_overdue_everywhere(
        city) -> None:
    lead, b = departments(city)[:2]
    oid = _with_parts(city, "f.4", lead, [b])
    city.call(lambda s: lifecycle.reply(s, oid, department_id=lead, text="已办", user_id=None,
                                        now=NOW + timedelta(hours=1)))
    now = _due(city, oid) + timedelta(hours=1)
    city.call(lambda s: refresh(s, CONFIG, now))

    assert [o.id for o in city.call(lambda s: lifecycle.worklist(s, "overdue", now=now))] \
        == [oid]
    assert city.call(lambda s: period_stats(s, START, END, tz=TZ, now=now)).overdue_open == 1
    accounts = {r.department_id: r.overdue for r in city.call(lambda s: department_stats(
        s, START, END, now=now))}
    assert (accounts[lead], accounts[b]) == (0, 1)
    rows = city.call(lambda s: report(s, ReportRequest("department", "day", DAY, DAY),
                                      now=now))["totals"]
    assert {int(r["key"]): r["overdue_now"] for r in rows} == {lead: 0, b: 1}
    floor = city.call(lambda s: figures.order_figures(s, now, 10))
    assert floor["overdue"] == 1
    assert [(d["department_id"], d["overdue"]) for d in floor["by_department"]] == [(b, 1)]
    # Before the deadline it is due soon on the floor, for b, and overdue nowhere.
    soon = city.call(lambda s: figures.order_figures(s, now - timedelta(hours=2), 10))
    assert (soon["overdue"], soon["due_soon"], [o["order_id"] for o in soon[
        "due_soon_orders"]]) == (0, 1, [oid])
    # Once b answers, nothing is overdue: the order waits for the review.
    city.call(lambda s: parts.answer(s, oid, b, text="已配合", now=now, user_id=None))
    assert city.call(lambda s: figures.order_figures(s, now, 10))["overdue"] == 0
    assert city.call(lambda s: lifecycle.worklist(s, "overdue", now=now)) == []


def test_given_the_same_calls_then_floor_and_reports_give_one_service_level(city) -> None:
    at = NOW + timedelta(hours=1)

    def add(s):
        s.add_all([
            call(101, at, "answered", hold=10, talk=100),
            call(102, at, "answered", hold=20, talk=200),
            call(103, at, "answered", hold=None, talk=60),  # no hold recorded: taken as 0
            call(104, at, "abandoned", hold=40),
            call(105, at, "queued"),  # still waiting: not offered yet
            call(106, at, "ivr_hangup", queue=None),  # ended in the IVR: not offered
            call(107, at, "in_ivr", queue=None),  # still in the IVR
            call(108, at, "answered", hold=3, talk=30, queue="hotline-complaint"),
        ])
    city.call(add)
    city.call(lambda s: refresh(s, CONFIG, at))
    day = figures.Day.of(at, TZ)
    floor = city.call(lambda s: figures.queue_figures(s, day, 15))
    rows = {r["key"]: r for r in city.call(lambda s: report(
        s, ReportRequest("queue", "day", DAY, DAY), now=at))["totals"]}
    help_ = floor["hotline-help"]
    assert (help_["offered"], help_["answered"], help_["abandoned"]) == (4, 3, 1)
    assert help_["service_level"] == 0.5 and help_["asa"] == 10.0
    for queue, figs in floor.items():
        row = rows[queue]
        assert (figs["offered"], figs["answered"], figs["abandoned"], figs["service_level"],
                figs["abandon_rate"], figs["asa"], figs["aht"]) == (
            row["offered"], row["answered"], row["abandoned"], row["service_level"],
            row["abandon_rate"], row["asa_seconds"], row["aht_seconds"]), queue
    stats = city.call(lambda s: period_stats(s, START, END, tz=TZ, now=at))
    [total] = city.call(lambda s: report(s, ReportRequest("all", "day", DAY, DAY),
                                         now=at))["totals"]
    hours = city.call(lambda s: figures.hourly(s, day, 15))
    assert (stats.calls, stats.offered, stats.ivr_only) == (total["calls"], total["offered"],
                                                            total["ivr_only"])
    assert (stats.calls, stats.offered, stats.ivr_only) == (
        sum(h["calls"] for h in hours), sum(h["offered"] for h in hours), 1)
    assert stats.service_level == total["service_level"] == 0.6  # 3 of the 5 offered
    assert sum(b.offered for b in stats.hours) == stats.offered
