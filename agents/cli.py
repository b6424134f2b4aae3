"""`hotline rota ...` commands (registered by hotline/cli.py).

generate, show, export, check, staffing and config.  They read the rota
settings and the teams from the database; ``generate`` and ``check`` fall
back to the default rota (teams only, no names) when the database has no
schema yet, and say so.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from agents import demand, export, rota
from agents.roster import all_slots, load_roster, load_settings, save_settings

T = TypeVar("T")


def _with_db(args: argparse.Namespace, fn: Callable[[Session, Any], T]) -> T:
    """Run ``fn(session, settings)`` in one transaction on the configured database."""
    from core.db import call_on_configured

    return call_on_configured(getattr(args, "config", None), fn)


def _today(args: argparse.Namespace) -> date:
    from core.settings import load_settings as load_hotline_settings

    tz = load_hotline_settings(config_file=getattr(args, "config", None)).tz
    return datetime.now(UTC).astimezone(tz).date()


def _fail(message: str, code: int = 2) -> int:
    print(f"hotline: {message}", file=sys.stderr)
    return code


def _print_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        names = " ".join(a["name"] or "" for a in row["agents"])
        flag = "  缺员 SHORT" if row["short"] else ""
        print(f"{row['date']} {row['weekday']}  {row['start'][11:]}-{row['end'][11:]}  "
              f"{row['team']:<4} {row['count']:>2}人  {names}{flag}")


def cmd_generate(args: argparse.Namespace) -> int:
    """The rota of a period: from the database, or the default one without it."""
    if args.days < 1 or args.days > 3660:
        return _fail("--days must be between 1 and 3660")
    start = args.start or _today(args)
    try:
        def work(s: Session, _settings: Any) -> tuple[rota.RotaConfig, list[dict[str, Any]]]:
            config, _policy = load_settings(s)
            return config, export.rota_rows(s, config, start, args.days)

        config, rows = _with_db(args, work)
    except SQLAlchemyError:
        print("hotline: no rota in the database (run `hotline migrate`); showing the default "
              "rota, teams only", file=sys.stderr)
        config = rota.RotaConfig()
        rows = [{"date": s.day.isoformat(), "weekday": "周" + export.WEEKDAYS[s.day.weekday()],
                 "shift": s.index, "start": s.start.isoformat(timespec="minutes"),
                 "end": s.end.isoformat(timespec="minutes"), "team": f"team {s.team_index}",
                 "team_indexes": [s.team_index], "agents": [], "count": 0, "short": False}
                for s in rota.generate(config, start, args.days)]
    if args.json:
        print(json.dumps({"start": start.isoformat(), "days": args.days,
                          "pattern": rota.format_pattern(config.cycle), "shifts": rows},
                         ensure_ascii=False, indent=2))
    else:
        _print_rows(rows)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Today's (or a day's) shifts, who works them and which one is running."""
    day = args.date or _today(args)

    def work(s: Session, settings: Any) -> dict[str, Any]:
        config, _policy = load_settings(s)
        now = rota.shift_at(config, datetime.now(UTC).astimezone(settings.tz)
                            .replace(tzinfo=None))
        return {"date": day.isoformat(), "shifts": export.rota_rows(s, config, day, 1),
                "now": {"day": now.day.isoformat(), "shift": now.index,
                        "team_index": now.team_index}}

    data = _with_db(args, work)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    _print_rows(data["shifts"])
    print(f"on duty now: shift {data['now']['shift'] + 1} of {data['now']['day']} "
          f"(team index {data['now']['team_index']})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    start = args.start or _today(args)

    def work(s: Session, _settings: Any) -> list[dict[str, Any]]:
        config, _policy = load_settings(s)
        return export.rota_rows(s, config, start, args.days)

    rows = _with_db(args, work)
    body = export.to_xlsx(rows) if args.format == "xlsx" else export.to_csv(rows)
    Path(args.out).write_bytes(body)
    print(f"wrote {len(rows)} shifts to {args.out}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """The rota's rules and the coverage of every hour; exit status 1 on a problem."""
    start = args.start or _today(args)

    def work(s: Session, _settings: Any) -> list[str]:
        config, _policy = load_settings(s)
        problems = []
        try:
            rota.validate(config)
        except rota.RotaError as exc:
            problems.append(str(exc))
        roster = load_roster(s, config, start, start + timedelta(days=args.days - 1))
        short = roster.shortfalls(all_slots(config, start, args.days))
        problems += [f"short: {x.describe()}" for x in short]
        return problems

    problems = _with_db(args, work)
    for p in problems:
        print(p)
    print(f"{len(problems)} problems in {args.days} days from {start}", file=sys.stderr)
    return 1 if problems else 0


def cmd_staffing(args: argparse.Namespace) -> int:
    """Agents needed per hour (Erlang C) against the rostered agents."""
    day = args.date or _today(args)

    def work(s: Session, settings: Any) -> dict[str, Any]:
        config, policy = load_settings(s)
        need = demand.demand_from_history(s, day, settings.tz, weeks=args.weeks,
                                          wrapup_seconds=policy.wrapup_seconds)
        level = min(max(settings.service_level_target, 0.01), 0.999)
        hours = demand.hourly_staffing(need, load_roster(s, config, day - timedelta(days=1), day),
                                       day, target_seconds=settings.service_level_seconds,
                                       service_level=level)
        return demand.staffing_report(need, hours, target_seconds=settings.service_level_seconds,
                                      service_level=level)

    data = _with_db(args, work)
    if args.json:
        print(json.dumps({"date": day.isoformat(), **data}, ensure_ascii=False, indent=2))
        return 0
    print(f"{day}: AHT {data['aht_seconds']} s from {data['answered_calls']} answered calls, "
          f"{data['history_days']} days of history")
    for h in data["hours"]:
        mark = "  SHORT" if h["gap"] < 0 else ""
        print(f"{h['hour'][11:16]}  calls {h['calls']:>6}  needed {h['needed']:>3}  "
              f"rostered {h['rostered']:>3}  gap {h['gap']:>+4}{mark}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Show the rota settings, or change the ones given (checked before saving)."""
    from agents.rota_http import BadInput, config_dict, config_from

    changes = {k: v for k, v in {
        "shift_starts": args.shift_starts.split(",") if args.shift_starts else None,
        "team_count": args.teams, "pattern": args.pattern, "epoch": args.epoch,
        "min_rest_hours": args.min_rest_hours, "min_on_duty": args.min_on_duty,
        "no_show_minutes": args.no_show_minutes, "wrapup_seconds": args.wrapup_seconds,
        "early_login_minutes": args.early_login_minutes}.items() if v is not None}

    def work(s: Session, _settings: Any) -> dict[str, Any]:
        config, policy = load_settings(s)
        if changes:
            config, policy = config_from(changes, config, policy)
            save_settings(s, config, policy, datetime.now(UTC))
        return config_dict(config, policy)

    try:
        data = _with_db(args, work)
    except (BadInput, rota.RotaError) as exc:
        return _fail(str(exc))
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this domain's subcommands to the `hotline` parser."""
    p = sub.add_parser("rota", help="the six-team, four-shift rota (六班四运转)",
                       description="Plan, check and export the rota.")
    rota_sub = p.add_subparsers(dest="rota_command", metavar="ACTION")
    rota_sub.required = True
    iso = date.fromisoformat

    c = rota_sub.add_parser("generate", help="the rota of a period",
                            description="Print every shift of N days from --start with its "
                            "team and agents (swaps, leave and overtime applied).")
    c.add_argument("--start", type=iso, help="first day, YYYY-MM-DD (default today)")
    c.add_argument("--days", type=int, default=28, help="number of days (default 28)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_generate)

    c = rota_sub.add_parser("show", help="a day's shifts and who is on duty now")
    c.add_argument("--date", type=iso, help="the day (default today)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_show)

    c = rota_sub.add_parser("export", help="write the rota as CSV or XLSX")
    c.add_argument("--start", type=iso, help="first day (default today)")
    c.add_argument("--days", type=int, default=28)
    c.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    c.add_argument("--out", required=True, help="file to write")
    c.set_defaults(func=cmd_export)

    c = rota_sub.add_parser("check", help="check the rules and every hour's coverage",
                            description="Exit status 1 if a rule is broken or an hour is short.")
    c.add_argument("--start", type=iso, help="first day (default today)")
    c.add_argument("--days", type=int, default=56, help="number of days (default 56)")
    c.set_defaults(func=cmd_check)

    c = rota_sub.add_parser("staffing", help="agents needed per hour (Erlang C) vs the rota")
    c.add_argument("--date", type=iso, help="the day (default today)")
    c.add_argument("--weeks", type=int, default=4, help="weeks of call history (default 4)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_staffing)

    c = rota_sub.add_parser("config", help="show or change the rota settings")
    c.add_argument("--shift-starts", help="e.g. 00:00,06:00,12:00,18:00")
    c.add_argument("--teams", type=int, help="number of teams")
    c.add_argument("--pattern", help="team 0's shift per day of the cycle, e.g. 0,1,2,3,-,-")
    c.add_argument("--epoch", help="day 0 of the pattern, YYYY-MM-DD")
    c.add_argument("--min-rest-hours", type=int)
    c.add_argument("--min-on-duty", type=int, help="fewest agents a shift may have")
    c.add_argument("--no-show-minutes", type=int)
    c.add_argument("--wrapup-seconds", type=int)
    c.add_argument("--early-login-minutes", type=int)
    c.set_defaults(func=cmd_config)
