"""`hotline user ...`: create users and take access away (disable, enable,
reset-password, end-sessions).  Passwords come from a terminal prompt or
standard input, never only the command line (which shows in ps)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from core.commands import fail as _fail
from core.commands import settings_of as _settings


def cmd_user_create(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from core import accounts
    from core.db import Database

    settings = _settings(args)
    password = _stdin_password() if args.password_stdin else args.password
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("password (empty: generate one): ") or None
        if password is None:
            password, generated = accounts.generate_password(), True
    db = Database(settings.database_url)
    try:
        user = db.call(lambda s: accounts.create_user(
            s, username=args.username, password=password, role=args.role,
            now=datetime.now(UTC), display_name=args.display_name,
            agent_id=args.agent_id, department_id=args.department_id))
    except accounts.AuthError as exc:
        return _fail(str(exc))
    finally:
        db.close()
    print(f"created {user.role} {user.username!r}" +
          (f" with password {password}" if generated else ""))
    return 0


def _stdin_password() -> str:
    """The first line of standard input (a password on the command line shows in ps)."""
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user_change(args: argparse.Namespace) -> int:
    """disable, enable, reset-password, end-sessions: take access away (or give it back)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from core import accounts
    from core.db import Database
    from core.passwords import hash_password

    settings = _settings(args)
    action = args.user_command
    password = None
    if action == "reset-password":
        password = _stdin_password() if args.password_stdin else None
        if password is None and sys.stdin.isatty():
            password = getpass.getpass("new password (empty: generate one): ") or None
        generated = password is None
        password = password or accounts.generate_password()
        try:
            accounts.check_new_password(password)
        except accounts.AuthError as exc:
            return _fail(str(exc))

    def work(s):  # type: ignore[no-untyped-def]
        user = s.scalar(select(accounts.User).where(accounts.User.username == args.username))
        if user is None:
            raise accounts.AuthError(f"no user {args.username!r}")
        ended = accounts.session_count(s, user.id)
        if action == "disable":
            accounts.set_active(s, user.id, False)
        elif action == "enable":
            accounts.set_active(s, user.id, True)
            ended = 0
        elif action == "reset-password":
            accounts.set_password_hash(s, user.id, hash_password(password))
        else:
            accounts.end_sessions(s, user.id)
        accounts.purge_expired_sessions(s, datetime.now(UTC))
        return ended

    db = Database(settings.database_url)
    try:
        ended = db.call(work)
    except accounts.AuthError as exc:
        return _fail(str(exc))
    finally:
        db.close()
    done = {"disable": "disabled", "enable": "enabled", "reset-password": "new password for",
            "end-sessions": "logged out"}[action]
    print(f"{done} {args.username!r}" + (f" ({ended} sessions ended)" if ended else "") +
          (f": {password}" if action == "reset-password" and generated else ""))
    return 0



def register(sub: Any) -> None:
    p = sub.add_parser("user", help="manage users", description="Manage users.")
    user_sub = p.add_subparsers(dest="user_command", metavar="ACTION")
    user_sub.required = True
    c = user_sub.add_parser("create", help="create a user (the first admin, for example)",
                            description="Create a user. Without --password, asks for one on a "
                            "terminal, or generates one and prints it.")
    c.add_argument("--username", required=True)
    c.add_argument("--role", required=True, choices=["agent", "supervisor", "department", "admin"])
    c.add_argument("--password", help="at least 8 characters (shows in ps: prefer "
                   "--password-stdin)")
    c.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")
    c.add_argument("--display-name")
    c.add_argument("--agent-id", type=int, help="link an agent login to agents.id")
    c.add_argument("--department-id", type=int, help="link a department login to departments.id")
    c.set_defaults(func=cmd_user_create)
    for action, text in (("disable", "refuse a user's logins and end their sessions"),
                         ("enable", "let a disabled user log in again"),
                         ("reset-password", "set a new password (asked on a terminal, read "
                          "with --password-stdin, or generated and printed); ends sessions"),
                         ("end-sessions", "log a user out everywhere")):
        c = user_sub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        c.add_argument("--username", required=True)
        if action == "reset-password":
            c.add_argument("--password-stdin", action="store_true",
                           help="read the new password from the first line of standard input")
        c.set_defaults(func=cmd_user_change)
