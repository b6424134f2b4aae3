"""Reports over one simulated year of a large city on PostgreSQL (issue #12).

Usage:
  python bench/reports_year.py generate [--days 365] [--calls-per-day 60000]
  python bench/reports_year.py rollup      # build the roll-ups of every day
  python bench/reports_year.py query       # time the reports the issue names
  python bench/reports_year.py drop        # drop the dedicated database

Everything runs in a DEDICATED database (``hotline_bench_reports`` on the
server of HOTLINE_TEST_PG), never the shared one.  ``generate`` migrates
it, adds departments and agents, and COPYs the year's calls (~60,000 a
day, no timelines) and one work order per answered call (~15 million),
with the roll-up triggers switched off for the load; ``rollup`` then
builds the daily roll-ups (reports/rollup.py) day by day, as the backend
would have kept them; ``query`` times a month's report per department
and the year's per category (each run five times; the issue asks < 2 s).
Each step prints one JSON line (the figures in BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
NAME = "hotline_bench_reports"
URL = ADMIN.rsplit("/", 1)[0] + f"/{NAME}"
FIRST_DAY = date(2025, 12, 1)
CATEGORIES = ("help", "complaint", "report", "consult", "suggest")
WEIGHTS = (40, 20, 8, 25, 7)
DEPARTMENTS = 80
AGENTS = 300
CST = timedelta(hours=8)


def _admin():
    return create_engine(ADMIN, isolation_level="AUTOCOMMIT")


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S+00")


def _day_rows(day: date, per_day: int, rng: random.Random, call_id: int, order_id: int):
    """(calls, orders) COPY lines for one local day."""
    calls, orders = [], []
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - CST
    for n in range(per_day):
        call_id += 1
        # busier by day: most calls between 08:00 and 20:00 local
        second = int(rng.triangular(0, 86400, 50400))
        entered = midnight + timedelta(seconds=second)
        category = rng.choices(CATEGORIES, WEIGHTS)[0]
        queue = f"hotline-{category}"
        roll = rng.random()
        agent = hold = talk = queued = answered = None
        if roll < 0.04:
            outcome = "ivr_hangup"
            queue = None
        elif roll < 0.05:
            outcome = "callback"
        elif roll < 0.80:
            outcome = "answered"
            hold = int(rng.expovariate(1 / 14))
            talk = int(rng.gammavariate(3, 80))
            agent = rng.randint(1, AGENTS)
            queued = entered + timedelta(seconds=25)
            answered = queued + timedelta(seconds=hold)
        else:
            outcome = "abandoned"
            hold = int(rng.expovariate(1 / 40))
            queued = entered + timedelta(seconds=25)
        ended = (answered + timedelta(seconds=talk) if answered
                 else entered + timedelta(seconds=25 + (hold or 0)))
        calls.append("\t".join((
            str(call_id), f"bench-{call_id}", f"139{call_id % 100000000:08d}", "", "12345",
            category, queue or r"\N", outcome, str(agent) if agent else r"\N",
            _ts(entered), _ts(queued) if queued else r"\N",
            _ts(answered) if answered else r"\N", _ts(ended),
            str(hold) if hold is not None else r"\N", str(talk) if talk is not None else r"\N",
            "ami", "0")))
        if outcome != "answered" or rng.random() > 0.9:
            continue
        order_id += 1
        created = answered
        submitted = created + timedelta(seconds=int(rng.expovariate(1 / 300)))
        on_call = category == "consult" and rng.random() < 0.7
        dept = None if on_call else rng.randint(1, DEPARTMENTS)
        days = {"help": 5, "complaint": 10, "report": 10, "consult": 3, "suggest": 15}[category]
        due = None if on_call else submitted + timedelta(days=days + 2)
        r = rng.random()
        if on_call:
            status, closed = "closed", submitted
        elif r < 0.93:
            status = "closed"
            closed = submitted + timedelta(hours=rng.expovariate(1 / (days * 20)))
        else:
            status, closed = rng.choice(("dispatched", "accepted")), None
        returns = 1 if (dept and rng.random() < 0.04) else 0
        satisfaction = (rng.choice(("satisfied", "satisfied", "basically_satisfied",
                                    "dissatisfied")) if closed and not on_call
                        and rng.random() < 0.6 else None)
        orders.append("\t".join((
            str(order_id), f"BJ{day:%Y%m%d}-{n:05d}", str(call_id), f"139{call_id % 100000000:08d}",
            "", category, status, "", "", str(dept) if dept else r"\N",
            str(agent), "t" if on_call else "f", _ts(created), _ts(submitted),
            _ts(due) if due else r"\N", _ts(closed) if closed else r"\N",
            satisfaction or r"\N", "", str(returns), "", "f", "0", "")))
    return calls, orders, call_id, order_id


CALL_COLUMNS = ("id, uniqueid, caller_number, caller_name, dialed_number, category, queue, "
                "outcome, agent_id, entered_at, queued_at, answered_at, ended_at, hold_seconds, "
                "talk_seconds, source, priority")
ORDER_COLUMNS = ("id, number, call_id, caller_number, caller_name, category, status, title, "
                 "description, department_id, agent_id, answered_on_call, created_at, "
                 "submitted_at, due_at, closed_at, satisfaction, reply, returns, "
                 "extension_reason, deadline_fallback, visit_attempts, urge_note")


def _before_reports() -> str:
    """The revision the reports' migration (0014) follows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from hotline.migrate import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(cfg).get_revision("0014").down_revision)


def generate(days: int, per_day: int) -> dict:
    import psycopg

    from hotline.migrate import upgrade

    started = time.perf_counter()
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}"'))
        conn.execute(text(f'CREATE DATABASE "{NAME}"'))
    engine = create_engine(URL)
    upgrade(engine, _before_reports())  # the rollup step upgrades, as a city would
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (id, code, name, active) SELECT g, 'D' || g, "
                          "'部门' || g, true FROM generate_series(1, :n) g"), {"n": DEPARTMENTS})
        conn.execute(text("INSERT INTO teams (id, code, name, rota_index) "
                          "VALUES (1, 'A', '一班', 0)"))
        conn.execute(text("INSERT INTO agents (id, number, name, team_id, interface, skills, "
                          "active) SELECT g, lpad(g::text, 4, '0'), '坐席' || g, 1, "
                          "'PJSIP/' || lpad(g::text, 4, '0'), '', true "
                          "FROM generate_series(1, :n) g"), {"n": AGENTS})
    engine.dispose()
    rng = random.Random(12345)
    call_id = order_id = 0
    dsn = URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as pg:
        pg.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        for d in range(days):
            calls, orders, call_id, order_id = _day_rows(FIRST_DAY + timedelta(days=d), per_day,
                                                         rng, call_id, order_id)
            with pg.cursor() as cur:
                with cur.copy(f"COPY calls ({CALL_COLUMNS}) FROM STDIN") as copy:
                    copy.write("\n".join(calls) + "\n")
                with cur.copy(f"COPY work_orders ({ORDER_COLUMNS}) FROM STDIN") as copy:
                    copy.write("\n".join(orders) + "\n")
            pg.commit()
            if d % 30 == 0:
                print(json.dumps({"day": d, "calls": call_id, "orders": order_id,
                                  "s": round(time.perf_counter() - started)}), flush=True)
        loaded = time.perf_counter() - started
        pg.execute("SELECT setval('calls_id_seq', %s)", (call_id,))
        pg.execute("SELECT setval('work_orders_id_seq', %s)", (order_id,))
        pg.commit()
        pg.autocommit = True
        pg.execute("VACUUM ANALYZE calls")
        pg.execute("VACUUM ANALYZE work_orders")
    return {"step": "generate", "days": days, "calls": call_id, "orders": order_id,
            "copy_seconds": round(loaded), "total_seconds": round(time.perf_counter() - started)}


def rollup() -> dict:
    """Upgrade the loaded year to the reports' schema (indexes, triggers, every
    hour marked) and let the refresh count it in, a month of days a round,
    as the backends' job does after an upgrade."""
    from zoneinfo import ZoneInfo

    from core.db import Database
    from hotline.migrate import upgrade
    from reports.rollup import RollupConfig, refresh

    db = Database(URL)
    started = time.perf_counter()
    upgrade(db.engine)
    migrated = time.perf_counter() - started
    config = RollupConfig(ZoneInfo("Asia/Shanghai"))
    now = datetime.combine(FIRST_DAY + timedelta(days=365), datetime.min.time(), UTC)
    days = rounds = 0
    while True:
        done = db.call(lambda s: refresh(s, config, now))
        days, rounds = days + done.days, rounds + 1
        if not done.pending:
            break
    db.call(lambda s: s.execute(text("ANALYZE report_calls_daily")))
    db.call(lambda s: s.execute(text("ANALYZE report_orders_daily")))
    db.close()
    return {"step": "rollup", "migrate_seconds": round(migrated, 1), "day_rollups": days,
            "rounds": rounds, "refresh_seconds": round(time.perf_counter() - started - migrated, 1)}


def query(rounds: int = 5) -> dict:
    from zoneinfo import ZoneInfo

    from core.db import Database
    from reports.query import ReportRequest, report
    from reports.rollup import RollupConfig, refresh

    db = Database(URL)
    config = RollupConfig(ZoneInfo("Asia/Shanghai"))
    month = ReportRequest(dimension="department", period="month",
                          first=FIRST_DAY + timedelta(days=31), last=FIRST_DAY + timedelta(days=61))
    year = ReportRequest(dimension="category", period="month", first=FIRST_DAY,
                         last=FIRST_DAY + timedelta(days=364))
    now = datetime.combine(FIRST_DAY + timedelta(days=365), datetime.min.time(), UTC)
    out: dict = {"step": "query"}
    for name, request in (("month_by_department", month), ("year_by_category", year)):
        times = []
        for _ in range(rounds):
            t = time.perf_counter()  # as /api/reports: a refresh, then the report
            db.call(lambda s: refresh(s, config, now, max_days=4, wait=False))
            result = db.call(lambda s, r=request: report(s, r, now=now))
            times.append(time.perf_counter() - t)
        out[name] = {"rows": len(result["rows"]), "best_s": round(min(times), 3),
                     "worst_s": round(max(times), 3)}
    db.close()
    return out


def drop() -> dict:
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}"'))
    return {"step": "drop"}


def main() -> None:
    global NAME, URL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("generate", "rollup", "query", "drop"))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--calls-per-day", type=int, default=60000)
    parser.add_argument("--database", default=NAME, help="a dedicated database (dropped and "
                        "made again by generate)")
    args = parser.parse_args()
    NAME, URL = args.database, ADMIN.rsplit("/", 1)[0] + f"/{args.database}"
    if args.step == "generate":
        result = generate(args.days, args.calls_per_day)
    elif args.step == "rollup":
        result = rollup()
    elif args.step == "query":
        result = query()
    else:
        result = drop()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
