"""`hotline reports refresh|rebuild|show`: the roll-ups by hand (the backends
keep them up to date themselves)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, time
from typing import Any


def _db(args: argparse.Namespace) -> tuple[Any, Any]:
    from core.commands import settings_of as _settings
    from core.db import Database

    settings = _settings(args)
    return settings, Database(settings.database_url)


def cmd_refresh(args: argparse.Namespace) -> int:
    from reports.rollup import RollupConfig, refresh

    settings, db = _db(args)
    config = RollupConfig.from_settings(settings)
    days = 0
    try:
        while True:
            done = db.call(lambda s: refresh(s, config, datetime.now(UTC)))
            days += done.days
            if not done.pending:
                break
    finally:
        db.close()
    print(f"{days} day roll-ups recounted")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from reports.rollup import RollupConfig, rebuild

    settings, db = _db(args)
    tz = settings.tz
    first = datetime.combine(date.fromisoformat(args.first), time(), tz)
    last = datetime.combine(date.fromisoformat(args.last), time(), tz) if args.last \
        else datetime.now(tz)
    try:
        days = rebuild(db, first, last, RollupConfig.from_settings(settings))
    finally:
        db.close()
    print(f"{days} days recounted")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from core.commands import fail as _fail
    from reports.query import ReportError, ReportRequest, parse_dates, report

    settings, db = _db(args)
    today = datetime.now(settings.tz).date()
    try:
        first, last = parse_dates(args.first, args.last, today)
        asked = ReportRequest(args.dimension, args.period, first, last, args.key)
        asked.check()
    except ReportError as e:
        db.close()
        return _fail(str(e))
    try:
        result = db.call(lambda s: report(s, asked, now=datetime.now(UTC),
                                          completion_target=settings.completion_target))
    finally:
        db.close()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("reports", help="report roll-ups: refresh, rebuild, show")
    rsub = p.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    r = rsub.add_parser("refresh", help="count in every day whose calls or orders changed")
    r.set_defaults(func=cmd_refresh)
    b = rsub.add_parser("rebuild", help="recount every day of a range (after "
                        "HOTLINE_SERVICE_LEVEL_SECONDS changed)")
    b.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    b.add_argument("--to", dest="last", help="last day (default: today)")
    b.set_defaults(func=cmd_rebuild)
    s = rsub.add_parser("show", help="print a report as JSON (as /api/reports)")
    s.add_argument("--dimension", default="all")
    s.add_argument("--period", default="day")
    s.add_argument("--from", dest="first")
    s.add_argument("--to", dest="last")
    s.add_argument("--key")
    s.set_defaults(func=cmd_show)
