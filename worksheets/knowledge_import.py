"""Importing articles from a JSON or CSV file: all rows or none.

Every row is checked before anything is written; each bad row is
reported with its line in the file, and one bad row imports nothing.  A
row with a ``ref`` already in the database updates that article (a new
version when something changed), so a department's file can be imported
again after it was revised; rows without ``ref`` are always new.

Fields (JSON keys or CSV header): ref, category, department (code, name
or id), title, answer, source, valid_until (YYYY-MM-DD), keywords (a JSON
list, or one string separated by commas, 、 or spaces), active.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worksheets.knowledge import (
    ArticleDraft,
    KnowledgeError,
    create_article,
    edit_article,
    split_keywords,
)
from worksheets.knowledge_models import KnowledgeArticle
from worksheets.models import Department

FIELDS = ("ref", "category", "department", "title", "answer", "source", "valid_until",
          "keywords", "active")
Row = tuple[int, dict[str, Any]]  # (line in the file, fields)


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(KnowledgeError):
    """The file was not imported; ``problems`` says why, row by row."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing imported")
        self.problems = problems


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    article_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _json_rows(content: str) -> list[Row]:
    """The objects of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = len(content) - len(content.lstrip())
    if not content.startswith("[", pos):
        raise ImportRefused([ImportProblem(1, "a JSON file must hold one array of articles")])
    pos += 1
    rows: list[Row] = []
    while True:
        while pos < len(content) and content[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(content):
            raise ImportRefused([ImportProblem(content.count("\n") + 1, "the array is not closed")])
        if content[pos] == "]":
            return rows
        line = content.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(content, pos)
        except json.JSONDecodeError as exc:
            raise ImportRefused([ImportProblem(exc.lineno, f"not valid JSON: {exc.msg}")]) from None
        rows.append((line, value if isinstance(value, dict) else {"__not_object__": value}))


def _csv_rows(content: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(content))
    rows: list[Row] = []
    start = 2  # the line after the header
    for record in reader:
        # Header names as spreadsheets write them: " Title " is title.
        fields = {k.strip().lower(): v for k, v in record.items() if k is not None}
        if None in record:  # more values than header columns
            fields["__extra__"] = record[None]  # type: ignore[index]
        rows.append((start, fields))
        start = reader.line_num + 1
    return rows


def read_rows(path: Path) -> list[Row]:
    """The file's rows with their line numbers (JSON by a .json name or a
    leading '[', CSV otherwise; UTF-8, a BOM allowed)."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([ImportProblem(1, f"not UTF-8 text: {exc.reason}")]) from None
    if path.suffix.lower() == ".json" or content.lstrip().startswith("["):
        return _json_rows(content)
    return _csv_rows(content)


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("valid_until must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"valid_until {value!r} is not a date YYYY-MM-DD") from None


def _active(value: Any) -> bool:
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "是"):
        return True
    if text in ("false", "0", "no", "否"):
        return False
    raise ValueError(f"active must be true or false, not {value!r}")


def _department(value: Any, departments: dict[str, int]) -> int | None:
    if value in (None, ""):
        return None
    key = str(value).strip()
    if key not in departments:
        raise ValueError(f"unknown department {key!r} (give its code, name or id)")
    return departments[key]


def draft_from_fields(data: dict[str, Any], departments: dict[str, int]
                      ) -> tuple[str | None, ArticleDraft]:
    """(ref, draft) from one row or request body; ValueError says what is wrong."""
    if "__not_object__" in data:
        raise ValueError("each article must be a JSON object")
    if "__extra__" in data:
        raise ValueError("more values than header columns")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    for name in ("category", "title", "answer", "source", "ref"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ValueError(f"{name} must be text")
    keywords = data.get("keywords") or ""
    if isinstance(keywords, list) and all(isinstance(k, str) for k in keywords):
        keywords = ",".join(keywords)
    if not isinstance(keywords, str):
        raise ValueError("keywords must be text or a list of text")
    ref = (data.get("ref") or "").strip() or None
    if ref is not None and len(ref) > 64:
        raise ValueError("ref is longer than 64 characters")
    draft = ArticleDraft(
        category=(data.get("category") or "").strip(), title=data.get("title") or "",
        answer=data.get("answer") or "", source=data.get("source") or "",
        department_id=_department(data.get("department"), departments),
        valid_until=_date(data.get("valid_until")), keywords=split_keywords(keywords),
        active=_active(data.get("active")))
    problems = draft.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return ref, draft


def department_keys(session: Session) -> dict[str, int]:
    keys: dict[str, int] = {}
    for d in session.scalars(select(Department)):
        keys.update({d.code: d.id, d.name: d.id, str(d.id): d.id})
    return keys


def import_rows(session: Session, rows: list[Row], *, user_id: int | None, now: datetime,
                update_existing: bool = True, audited: bool = True) -> ImportReport:
    """Check every row, then import them all; raises :class:`ImportRefused`.

    ``update_existing`` False leaves articles whose ref exists as they are;
    it and ``audited`` False are for the demo seed (an editor's changes
    survive a second run; seeding is no one's act to audit).
    """
    departments = department_keys(session)
    problems: list[ImportProblem] = []
    checked: list[tuple[str | None, ArticleDraft]] = []
    seen: dict[str, int] = {}
    for line, data in rows:
        try:
            ref, draft = draft_from_fields(data, departments)
        except ValueError as exc:
            problems.append(ImportProblem(line, str(exc)))
            continue
        if ref is not None and ref in seen:
            problems.append(ImportProblem(line, f"ref {ref!r} is also on line {seen[ref]}"))
        elif ref is not None:
            seen[ref] = line
        checked.append((ref, draft))
    if not rows:
        problems.append(ImportProblem(1, "the file has no articles"))
    if problems:
        raise ImportRefused(problems)
    existing = {row.ref: row.id for row in session.execute(
        select(KnowledgeArticle.ref, KnowledgeArticle.id).where(
            KnowledgeArticle.ref.in_(list(seen))))} if seen else {}
    report = ImportReport()
    for ref, draft in checked:
        if ref is not None and ref in existing:
            article = session.get(KnowledgeArticle, existing[ref])
            assert article is not None
            before = article.version
            if update_existing:
                article = edit_article(session, article.id, draft, expected_version=None,
                                       user_id=user_id, now=now, note="import")
            if article.version != before:
                report.updated += 1
            else:
                report.unchanged += 1
        else:
            article = create_article(session, draft, user_id=user_id, now=now, ref=ref,
                                     note="import", audited=audited)
            report.created += 1
        report.article_ids.append(article.id)
    return report


STARTER_FILE = Path(__file__).resolve().parent / "kb_baoji.json"


def seed_starter_articles(session: Session, now: datetime) -> int:
    """The demo city's starter knowledge base; articles already there (by
    ref) are left as editors made them.  Returns how many were created."""
    report = import_rows(session, read_rows(STARTER_FILE), user_id=None, now=now,
                         update_existing=False, audited=False)
    return report.created
