"""`hotline admin list|create|edit|deactivate KIND ...` and `hotline import
KIND FILE`: the admin's records from the command line, checked and audited
as through the API (the audit names the system user who ran the command)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.commands import fail as _fail
from core.commands import settings_of as _settings

EDITABLE = ("teams", "agents", "departments", "lines", "users")


def _via() -> str:
    try:
        return f"cli ({getpass.getuser()})"
    except Exception:  # no login name (a container without passwd entry)
        return "cli"


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise ValueError(f"{item!r}: write FIELD=VALUE")
        out[name.strip()] = value
    return out


def _ident(key: str) -> int | str:
    """``#12`` is the id 12; anything else is the key (code, number, username)."""
    return int(key[1:]) if key.startswith("#") and key[1:].isdigit() else key


def cmd_admin(args: argparse.Namespace) -> int:
    from admin import service
    from admin.fields import AdminError
    from admin.kinds import KINDS
    from core import accounts
    from core.db import Database

    kind = KINDS[args.kind]
    action = args.admin_command
    if kind.name == "users" and action in ("create", "deactivate"):
        return _fail(f"users: use `hotline user {'create' if action == 'create' else 'disable'}`")
    try:
        data = _pairs(getattr(args, "fields", []) or [])
    except ValueError as exc:
        return _fail(str(exc))
    now, via = datetime.now(UTC), _via()

    def work(s: Any) -> Any:
        if action == "list":
            return service.listing(s, kind, now)
        if action == "create":
            return kind.dump(s, service.create(s, kind, data, user_id=None, now=now, via=via))
        row = service.find(s, kind, _ident(args.key))
        if action == "deactivate":
            service.deactivate(s, kind, row, user_id=None, now=now, via=via)
            return kind.dump(s, row)
        changes = service.edit(s, kind, row, data, user_id=None, now=now, via=via)
        if kind.name == "users" and {"role", "agent", "department"} & set(changes):
            accounts.end_sessions(s, row.id)
        return {**kind.dump(s, row), "changed": sorted(changes)}

    db = Database(_settings(args).database_url)
    try:
        result = db.call(work)
    except AdminError as exc:
        for problem in exc.problems:
            print(f"hotline: {problem.field}: {problem.message}", file=sys.stderr)
        return 2
    except LookupError as exc:
        return _fail(str(exc.args[0]))
    finally:
        db.close()
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from admin import imports
    from admin.kinds import KINDS
    from core.db import Database

    path = Path(args.file)
    try:
        rows = imports.read_rows(path.read_bytes(), imports.form_of(path.name))
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror or exc}")
    except imports.FileProblem as exc:
        return _fail(f"{path}: {exc}")
    db = Database(_settings(args).database_url)
    try:
        report = db.call(lambda s: imports.import_rows(
            s, KINDS[args.kind], rows, user_id=None, now=datetime.now(UTC),
            dry_run=args.dry_run, via=f"{_via()} {path.name}"))
    finally:
        db.close()
    for line in report.lines():
        print(line, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def register(sub: Any) -> None:
    p = sub.add_parser("admin", help="create, edit and deactivate teams, agents, departments, "
                       "lines and users", description="The admin's records (audited). FIELD="
                       "VALUE pairs use the API's field names; KEY is a team's code, an "
                       "agent's number, a department's code, a line's number or a username "
                       "(#ID for an id).")
    admin_sub = p.add_subparsers(dest="admin_command", metavar="ACTION")
    admin_sub.required = True
    for action, text in (("list", "list every record of a kind (JSON)"),
                         ("create", "create a record from FIELD=VALUE pairs"),
                         ("edit", "change a record's fields"),
                         ("deactivate", "take a record out of service (kept: others name it)")):
        c = admin_sub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        c.add_argument("kind", choices=EDITABLE)
        if action in ("edit", "deactivate"):
            c.add_argument("key", help="code, number or username (#ID: the id)")
        if action in ("create", "edit"):
            c.add_argument("fields", nargs="*", metavar="FIELD=VALUE")
        c.set_defaults(func=cmd_admin)
    p = sub.add_parser("import", help="load agents, departments or lines from CSV or XLSX",
                       description="Load a city's list from a .csv (UTF-8 or GB18030) or .xlsx "
                       "file whose first row names the columns. Every row is checked; if any is "
                       "bad, each is reported by line number and nothing is imported.")
    p.add_argument("kind", choices=("agents", "departments", "lines"))
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check the file, change nothing")
    p.set_defaults(func=cmd_import)
