"""`hotline kb ...`: import articles from a file, search from a shell
(registered by hotline/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

T = TypeVar("T")


def _run(args: argparse.Namespace, fn: Callable[[Session, Any], T]) -> T:
    from core.db import call_on_configured

    return call_on_configured(getattr(args, "config", None), fn)


def _fail(message: str, code: int = 2) -> int:
    print(f"hotline: {message}", file=sys.stderr)
    return code


def cmd_import(args: argparse.Namespace) -> int:
    from worksheets.knowledge_import import ImportRefused, import_rows, read_rows

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"{path}: no such file")
    try:
        rows = read_rows(path)
        report = _run(args, lambda s, _settings: import_rows(
            s, rows, user_id=None, now=datetime.now(UTC)))
    except ImportRefused as exc:
        for problem in exc.problems:
            print(f"{path}:{problem.line}: {problem.message}", file=sys.stderr)
        print(f"{len(exc.problems)} bad row(s); nothing imported", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        return _fail(f"database: {str(exc).splitlines()[0]} (has `hotline migrate` run?)")
    print(f"imported {path}: {report.created} new, {report.updated} updated, "
          f"{report.unchanged} unchanged")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from worksheets import knowledge
    from worksheets.knowledge_search import segmenter

    def work(s: Session, settings: Any) -> list[dict[str, Any]]:
        today = datetime.now(UTC).astimezone(settings.tz).date()
        return knowledge.search(s, args.query, today=today, include_hidden=args.include_hidden,
                                limit=args.limit)

    try:
        articles = _run(args, work)
    except SQLAlchemyError as exc:
        return _fail(f"database: {str(exc).splitlines()[0]} (has `hotline migrate` run?)")
    terms = segmenter().query_terms(args.query)
    if args.json:
        print(json.dumps({"query": args.query, "terms": terms, "articles": articles},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"words: {' / '.join(terms) or '(none)'}; {len(articles)} article(s)")
    for a in articles:
        flags = "".join(f" [{f}]" for f, on in (("expired", a["expired"]),
                                                  ("withdrawn", not a["active"])) if on)
        print(f"\n#{a['id']} {a['title']}{flags}  ({a['category']}; "
              f"{a['department'] or '-'}; valid until {a['valid_until'] or '-'}; "
              f"score {a['score']})")
        print(f"  {a['answer']}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("kb", help="the knowledge base: import, search",
                       description="The knowledge base (知识库) agents answer from.")
    kb_sub = p.add_subparsers(dest="kb_command", metavar="ACTION")
    kb_sub.required = True
    c = kb_sub.add_parser(
        "import", help="import articles from a JSON or CSV file (all rows or none)",
        description="Import articles from a JSON array or a CSV file with a header. Fields: "
        "ref, category, department (code, name or id), title, answer, source, valid_until "
        "(YYYY-MM-DD), keywords, active. Every bad row is reported with its line and nothing "
        "is imported (exit status 1). A row whose ref exists updates that article as a new "
        "version.")
    c.add_argument("file", metavar="FILE")
    c.set_defaults(func=cmd_import)
    c = kb_sub.add_parser(
        "search", help="search the knowledge base as an agent does",
        description="Search in Chinese (the query is cut into words with jieba); best first. "
        "Only articles valid today unless --include-hidden.")
    c.add_argument("query", metavar="QUERY")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    c.add_argument("--include-hidden", action="store_true",
                   help="also expired and withdrawn articles")
    c.set_defaults(func=cmd_search)
