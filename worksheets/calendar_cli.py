"""`hotline calendar ...`: load a year's arrangement, show a year, compute a deadline."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def with_db(args: argparse.Namespace, work: Any) -> Any:
    """``work(session, settings)`` in one transaction (the agents' CLI helper)."""
    from agents.cli import _with_db

    return _with_db(args, work)


def _fail(message: str, code: int = 2) -> int:
    print(f"hotline: {message}", file=sys.stderr)
    return code


def cmd_load(args: argparse.Namespace) -> int:
    from worksheets.calendar import CalendarDataError, read_arrangement_file
    from worksheets.calendar_store import load_years

    try:
        data = read_arrangement_file(args.file)
        result = with_db(args, lambda s, settings: load_years(
            s, data, now=datetime.now(UTC), tz=settings.tz, loaded_by="cli"))
    except CalendarDataError as exc:
        print(f"hotline: {args.file} was not loaded:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"loaded {', '.join(map(str, result.years))} (calendar version {result.version}); "
          f"{len(result.recomputed)} open order deadline(s) recomputed")
    for r in result.recomputed:
        print(f"  {r.number}: due {r.old_due} -> {r.new_due}"
              + (" (still partly on the fallback)" if r.fallback else ""))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from worksheets.calendar_store import build_calendar, year_summary

    summary = with_db(args, lambda s, _: year_summary(build_calendar(s)[0], args.year))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.year}: {summary['basis']}" +
          (f" — {summary['source']}" if summary["source"] else ""))
    print(f"  working days: {summary['working_days']}")
    print(f"  days off:     {', '.join(summary['holidays']) or '(weekends only)'}")
    print(f"  make-up days: {', '.join(summary['workdays']) or '-'}")
    return 0 if summary["loaded"] else 1


def cmd_deadline(args: argparse.Namespace) -> int:
    from worksheets.calendar_store import build_calendar
    from worksheets.deadlines import DeadlineError, deadline_for

    def work(s: Any, settings: Any) -> dict[str, Any]:
        start = datetime.fromisoformat(args.start)
        if start.tzinfo is None:  # the city's wall clock
            start = start.replace(tzinfo=settings.tz)
        complexity = ("complex" if args.complex else "ordinary") if args.type == "help" \
            else None
        if args.complex and args.type != "help":
            raise DeadlineError("--complex applies to help orders only")
        deadline = deadline_for(args.type, complexity, start, build_calendar(s)[0], settings.tz)
        return {"type": args.type, "complexity": complexity, "from": start.isoformat(),
                "days": deadline.days, "due_date": deadline.due_date.isoformat(),
                "due_at": deadline.due_at.astimezone(settings.tz).isoformat(),
                "basis": "fallback" if deadline.fallback else "arrangement"}

    try:
        result = with_db(args, work)
    except ValueError as exc:  # DeadlineError, or a --from that is no date
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    basis = ("on the Monday-Friday FALLBACK: a year it runs through has no arrangement "
             "loaded" if result["basis"] == "fallback" else "on the loaded arrangements")
    print(f"{result['days']} working days: due {result['due_date']} 23:59:59 "
          f"({result['due_at']}), {basis}")
    return 0


def register(sub: Any) -> None:
    from worksheets.deadlines import CATEGORIES

    p = sub.add_parser("calendar", help="the working-day calendar (holidays, deadlines)",
                       description="China's official working-day calendar, as deadlines use "
                       "it: the shipped years plus the years loaded into the database.")
    cal = p.add_subparsers(dest="calendar_command", metavar="ACTION")
    cal.required = True
    c = cal.add_parser("load", help="load a year's arrangement (holidays_cn.json format)",
                       description="Validate and store the years in FILE; every backend "
                       "uses them at once. Open orders whose deadlines they change are "
                       "recomputed (each change in the order's history). Exit status 1 "
                       "and every problem listed if the file is refused.")
    c.add_argument("file", metavar="FILE")
    c.set_defaults(func=cmd_load)
    c = cal.add_parser("show", help="a year's days off and make-up days",
                       description="Print a year's arrangement, or say it falls back to "
                       "Monday-Friday (exit status 1 then).")
    c.add_argument("year", type=int, metavar="YEAR")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_show)
    c = cal.add_parser("deadline", help="the deadline of an order dispatched at a time",
                       description="Print the deadline and whether it rests on loaded "
                       "arrangements or on the Monday-Friday fallback.")
    c.add_argument("--type", required=True, choices=CATEGORIES)
    c.add_argument("--from", dest="start", required=True, metavar="DATETIME",
                   help="dispatch time, ISO 8601 (without an offset: the city's time)")
    c.add_argument("--complex", action="store_true", help="a complex help order")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_deadline)
