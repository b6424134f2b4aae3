"""The roll-up reports agree with worksheets.stats computed from the rows
(period_stats, department_stats), stay right as orders change (triggers
mark the day; refresh recounts it), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from calls import records
from hotline.seed import seed_demo_city
from reports.models import CALL_SUMS, ORDER_SUMS, CallsDaily, OrdersDaily, ReportDirty
from reports.query import ReportError, ReportRequest, report
from reports.rollup import FORMULA, RollupConfig, refresh, stale_days
from tests.domain.conftest import SHANGHAI, local
from tests.helpers import record_abandon, record_answer
from worksheets import lifecycle, review, service
from worksheets.calendar import WorkingCalendar
from worksheets.no_order import close_without_order
from worksheets.stats import department_stats, period_stats

T0 = local(2026, 11, 2, 9)  # a Monday
CAL = WorkingCalendar.official()
CONFIG = RollupConfig(SHANGHAI)
DAY = T0.astimezone(SHANGHAI).date()
TABLES = ("report_calls_daily", "report_orders_daily")


def _traffic(s, seed: int) -> list[int]:
    """Three days of calls: IVR hang-ups, abandons, answered calls with
    orders submitted fast or late, dispatched to departments, some
    returned, some answered and visited."""
    rng = random.Random(seed)
    city = seed_demo_city(s, T0 - timedelta(days=1))
    depts = [d.id for d in city.departments[:3]]
    orders = []
    for i in range(60):
        at = T0 + timedelta(days=i % 3, minutes=7 * i)
        uid = f"r.{i}"
        records.start_call(s, uniqueid=uid, now=at, caller_number="13800138000")
        if i % 10 == 0:
            records.mark_ended(s, uid, now=at + timedelta(seconds=5))
            continue
        category = ("help", "complaint", "consult")[i % 3]
        records.record_ivr_choice(s, uid, key="1", category=category,
                                  queue=f"hotline-{category}", now=at)
        records.mark_queued(s, uid, queue=f"hotline-{category}", now=at)
        hold = rng.randint(0, 40)
        if i % 7 == 0:
            record_abandon(s, uid, hold_seconds=hold, now=at)
            continue
        order = record_answer(s, uid, member_name="agent-1001", agent_id=None,
                              hold_seconds=hold, now=at)
        records.mark_ended(s, uid, now=at + timedelta(minutes=3), talk_seconds=60 + i)
        if i % 11 == 0:
            continue  # a draft never submitted
        if i % 13 == 0:  # a prank: closed without an order, counted apart
            close_without_order(s, order.id, agent_id=None, reason="prank", note="",
                                now=at + timedelta(minutes=2), user_id=None)
            continue
        on_call = category == "consult" and i % 2 == 0
        service.submit_work_order(
            s, order.id, agent_id=None, title="t", description="", category=category,
            complexity="ordinary" if category == "help" else None,
            department_id=None if on_call else depts[i % 3], answered_on_call=on_call,
            now=at + timedelta(minutes=rng.choice((3, 12))), calendar=CAL, tz=SHANGHAI)
        if i % 4 == 0:
            service.set_satisfaction(s, uid, answer=rng.choice(("satisfied", "dissatisfied")),
                                     now=at + timedelta(minutes=4))
        if not on_call:
            orders.append(order.id)
    return orders


def _totals(s, dimension="all", key=None, now=None, first=DAY, last=DAY + timedelta(days=2)):
    return report(s, ReportRequest(dimension, "day", first, last, key),
                  now=now or T0 + timedelta(days=5))


def test_given_traffic_then_rollups_match_the_stats_from_the_rows(db) -> None:
    orders = db.call(lambda s: _traffic(s, 1))
    later = T0 + timedelta(days=4)

    def work(s):  # departments work some orders: a return, answers, a 回访
        for n, oid in enumerate(orders[:12]):
            dept = s.get(service.WorkOrder, oid).department_id
            if n % 4 == 0:
                lifecycle.return_order(s, oid, department_id=dept, reason="不归我管",
                                       user_id=None, now=later)
            else:
                lifecycle.reply(s, oid, department_id=dept, text="已办", user_id=None,
                                now=later + timedelta(days=n))
                # 统一答复: the hotline accepts the answer a little later
                review.accept(s, oid, now=later + timedelta(days=n, minutes=30), user_id=None,
                              note="")
                if n % 2:
                    lifecycle.visit(s, oid, result="satisfied", note="", user_id=None,
                                    now=later + timedelta(days=n, hours=1))

    db.call(lambda s: refresh(s, CONFIG, T0 + timedelta(days=3)))
    db.call(work)
    assert db.call(lambda s: s.scalar(select(func.count()).select_from(ReportDirty))) > 0
    now = T0 + timedelta(days=30)
    rebuilt = db.call(lambda s: refresh(s, CONFIG, now))
    assert rebuilt.days >= 3 and rebuilt.pending == 0
    assert db.call(lambda s: s.scalar(select(func.count()).select_from(ReportDirty))) == 0

    start = local(2026, 11, 2)
    expected = db.call(lambda s: period_stats(s, start, start + timedelta(days=3), tz=SHANGHAI,
                                              now=now))
    total = db.call(lambda s: _totals(s, now=now))["totals"][0]
    assert (total["calls"], total["offered"], total["answered"], total["abandoned"],
            total["ivr_only"]) == (expected.calls, expected.offered, expected.answered,
                                   expected.abandoned, expected.ivr_only)
    for name in ("service_level", "abandon_rate", "asa_seconds", "aht_seconds",
                 "completion_rate", "on_time_rate", "return_rate", "satisfaction_rate",
                 "service_rating", "within_target_minutes"):
        assert total[name] == getattr(expected, name), name
    assert total["drafts_unsubmitted"] == expected.drafts_unsubmitted > 0

    accounts = {r.department_id: r for r in db.call(lambda s: department_stats(
        s, start, start + timedelta(days=3), now=now))}
    rows = db.call(lambda s: _totals(s, "department", now=now))["totals"]
    assert rows and all(not r["label"].isdigit() for r in rows)
    for row in rows:
        account = accounts[int(row["key"])]
        assert (row["submitted"], row["closed"], row["overdue_now"]) == (
            account.received, account.closed, account.overdue)
        for name in ("completion_rate", "on_time_rate", "return_rate", "satisfaction_rate"):
            assert row[name] == getattr(account, name), (row["key"], name)
    assert sum(r["returned_by"] for r in rows) == 3


def test_given_days_then_weeks_months_and_dimensions_add_up(db) -> None:
    db.call(lambda s: _traffic(s, 2))
    db.call(lambda s: refresh(s, CONFIG, T0 + timedelta(days=3)))
    days = db.call(lambda s: _totals(s, "category"))
    assert sorted({r["period"] for r in days["rows"]}) == ["2026-11-02", "2026-11-03",
                                                          "2026-11-04"]
    week = db.call(lambda s: report(s, ReportRequest("category", "week", DAY, DAY + timedelta(
        days=2)), now=T0))
    assert {r["period"] for r in week["rows"]} == {"2026-11-02"}
    month = db.call(lambda s: report(s, ReportRequest("queue", "month", DAY, DAY + timedelta(
        days=2)), now=T0))
    assert {r["period"] for r in month["rows"]} == {"2026-11-01"}
    by_category = {r["key"]: r["calls"] for r in week["totals"]}
    assert sum(by_category.values()) == 60 and by_category["-"] == 6  # IVR hang-ups
    # every call was queued in its category's queue: the same offered counts
    assert {r["key"]: r["offered"] for r in month["totals"]} == {
        ("-" if r["key"] == "-" else f"hotline-{r['key']}"): r["offered"] for r in days["totals"]}
    one = db.call(lambda s: report(s, ReportRequest("category", "day", DAY, DAY, "help"),
                                   now=T0))
    assert {r["key"] for r in one["rows"]} == {"help"}


def test_given_many_days_marked_then_the_newest_are_recounted_first(db) -> None:
    db.call(lambda s: _traffic(s, 3))  # calls and orders on three days: six day roll-ups
    now = T0 + timedelta(days=3)
    first = db.call(lambda s: refresh(s, CONFIG, now, max_days=2))
    assert (first.days, first.pending) == (2, 4)
    newest = DAY + timedelta(days=2)
    got = db.call(lambda s: report(s, ReportRequest("all", "day", DAY, newest), now=now))
    assert [r["period"] for r in got["rows"]] == [newest.isoformat()]
    while db.call(lambda s: refresh(s, CONFIG, now, max_days=2)).pending:
        pass
    got = db.call(lambda s: report(s, ReportRequest("all", "day", DAY, newest), now=now))
    assert len(got["rows"]) == 3 and got["totals"][0]["calls"] == 60


def test_given_a_bad_request_then_an_error_code() -> None:
    for request, code in ((ReportRequest("team", "day", DAY, DAY), "bad_dimension"),
                          (ReportRequest("all", "year", DAY, DAY), "bad_period"),
                          (ReportRequest("all", "day", DAY, DAY - timedelta(days=1)),
                           "bad_range"),
                          (ReportRequest("all", "day", date(2025, 1, 1), DAY), "bad_range"),
                          (ReportRequest("department", "day", DAY, DAY, "x"), "bad_key")):
        try:
            request.check()
        except ReportError as e:
            assert e.code == code
        else:
            raise AssertionError(request)


def test_given_a_refresh_running_then_a_request_reads_without_waiting(db) -> None:
    if db.engine.dialect.name != "postgresql":
        return  # SQLite: one writer, no lock to wait for
    db.call(lambda s: _traffic(s, 5))
    now = T0 + timedelta(days=3)
    with db.session() as busy:  # the background job's transaction, holding the lock
        assert refresh(busy, CONFIG, now, max_days=1).days == 1
        skipped = db.call(lambda s: refresh(s, CONFIG, now, wait=False))
        assert skipped.days == 0 and skipped.pending > 0  # the busy claims not yet committed
    assert db.call(lambda s: refresh(s, CONFIG, now, wait=False)).pending == 0


def _rows(s, table):
    """Every roll-up row of ``table`` as written: (day, dim, key) -> (formula, first sum)."""
    first = "calls" if table == "report_calls_daily" else "orders"
    return {(str(day), dim, key): (formula, n) for day, dim, key, formula, n in s.execute(text(
        f"SELECT day, dim, key, formula, {first} FROM {table}"))}  # noqa: S608


def test_given_days_an_older_release_counted_then_the_next_refresh_recounts_them(db) -> None:
    db.call(lambda s: _traffic(s, 6))
    now = T0 + timedelta(days=3)
    db.call(lambda s: refresh(s, CONFIG, now))
    right = {table: db.call(lambda s, t=table: _rows(s, t)) for table in TABLES}
    assert all(right.values())
    assert {f for rows in right.values() for f, _n in rows.values()} == {FORMULA}
    day, older = DAY.isoformat(), (DAY + timedelta(days=1)).isoformat()

    def old_release(s) -> None:
        """As a release before 0023 recounting its way (it knows no ``formula``):
        the first day's rows rewritten, and a row of a department it missed
        gone; the second day's stamped with an older counting."""
        for table, sums in zip(TABLES, (CALL_SUMS, ORDER_SUMS), strict=True):
            first, listed = sums[0], ", ".join(sums)
            s.execute(text(f"DELETE FROM {table} WHERE day = :d AND dim = 'department'"),
                      {"d": DAY})
            s.execute(text(f"UPDATE {table} SET {first} = {first} + 100, formula = NULL "
                           "WHERE day = :d"), {"d": DAY})
            s.execute(text(f"INSERT INTO {table} (day, week, month, dim, key, {listed}) "
                           f"SELECT day, week, month, 'queue', 'old', {listed} FROM {table} "
                           "WHERE day = :d AND dim = 'all'"), {"d": DAY})
            s.execute(text(f"UPDATE {table} SET formula = :f, {first} = 0 WHERE day = :d"),
                      {"f": FORMULA - 1, "d": DAY + timedelta(days=1)})

    db.call(old_release)
    assert db.call(lambda s: s.scalar(select(func.count()).select_from(ReportDirty))) == 0
    stale = db.call(lambda s: _rows(s, "report_orders_daily"))
    assert stale[(day, "queue", "old")][0] is None  # what an old release's insert leaves
    assert {f for (d, _dim, _k), (f, _n) in stale.items() if d == older} == {FORMULA - 1}

    done = db.call(lambda s: refresh(s, CONFIG, now, max_days=2))
    assert (done.days, done.pending) == (2, 2)  # newest first: the older counting's day
    done = db.call(lambda s: refresh(s, CONFIG, now))
    assert (done.days, done.pending) == (2, 0)
    assert {table: db.call(lambda s, t=table: _rows(s, t)) for table in TABLES} == right


def test_given_up_to_date_rows_then_a_refresh_leaves_them_alone(db) -> None:
    db.call(lambda s: _traffic(s, 7))
    now = T0 + timedelta(days=3)
    db.call(lambda s: refresh(s, CONFIG, now))

    def tamper(s) -> None:  # a figure no refresh would write, on a row of this counting
        s.execute(text("UPDATE report_calls_daily SET calls = 999 WHERE day = :d AND "
                       "dim = 'all'"), {"d": DAY})

    db.call(tamper)
    done = db.call(lambda s: refresh(s, CONFIG, now))
    assert (done.days, done.pending) == (0, 0)
    assert db.call(lambda s: _rows(s, "report_calls_daily"))[
        (DAY.isoformat(), "all", "*")] == (FORMULA, 999)


def test_the_days_of_an_older_counting_are_found_through_the_index(db) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by its statistics (checked by hand: two index conditions)")
    for table in (CallsDaily, OrdersDaily):
        query = stale_days(table).compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = [row[-1] for row in db.call(lambda s, q=str(query): s.execute(text(
            f"EXPLAIN QUERY PLAN {q}")))]
        searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
        assert searches and all(step.startswith("SEARCH") and
                                f"ix_{table.__tablename__}_formula_day" in step
                                for step in searches), plan
