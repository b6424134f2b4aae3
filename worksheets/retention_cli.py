"""`hotline purge`: the retention purge by hand (the backend runs it daily)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def cmd_purge(args: argparse.Namespace) -> int:
    from core.commands import settings_of as _settings
    from core.db import Database
    from worksheets.retention import purge

    settings = _settings(args)
    days = settings.retention_days if args.days is None else args.days
    if days <= 0:
        print("hotline: retention is off (HOTLINE_RETENTION_DAYS=0); nothing purged",
              file=sys.stderr)
        return 0
    db = Database(settings.database_url)
    try:
        report = purge(db, now=datetime.now(UTC), retention_days=days,
                       recordings_dir=settings.recordings_dir, dry_run=args.dry_run)
    finally:
        db.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.summary())
    for path in report.outside:
        print(f"not removed (outside {settings.recordings_dir}): {path}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("purge", help="purge recordings and transcripts past retention",
                       description="Remove the recordings and transcripts (files and rows, "
                       "together) of calls older than HOTLINE_RETENTION_DAYS, except those "
                       "an open order, an order followed up, or an open callback needs; "
                       "print what was removed.")
    p.add_argument("--dry-run", action="store_true", help="only say what would go")
    p.add_argument("--days", type=int, help="override HOTLINE_RETENTION_DAYS")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_purge)
