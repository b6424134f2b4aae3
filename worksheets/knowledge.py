"""The knowledge base (知识库): articles agents answer from, kept by supervisors.

Every create or edit writes the article's next version row and an audit
entry; agents read only active articles valid today (``valid_until`` is
the last local day an answer holds); expired ones are listed for their
department and their last editor.  Functions take a ``Session`` first and
an aware ``now``; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from routing.lists import audit
from worksheets.knowledge_models import KnowledgeArticle, KnowledgeArticleVersion
from worksheets.knowledge_search import search_ids, segmenter
from worksheets.models import Department

# What the console groups articles by; a 12345 agent's usual matters.
KB_CATEGORIES = ("市政设施", "环境保护", "水电气暖", "社会保障", "医疗卫生", "住房物业",
                 "消费维权", "交通出行", "教育", "户籍证件", "劳动就业", "其他")
MAX_TITLE, MAX_SOURCE, MAX_KEYWORDS, MAX_ANSWER = 200, 300, 500, 20000


class KnowledgeError(ValueError):
    """A rule of the knowledge base refused the change."""


class StaleEdit(KnowledgeError):
    """Someone saved the article after the editor loaded it."""


@dataclass
class ArticleDraft:
    """What an editor or an import file gives for one article."""

    category: str
    title: str
    answer: str
    department_id: int | None = None
    source: str = ""
    valid_until: date | None = None
    keywords: tuple[str, ...] = ()
    active: bool = True

    def problems(self) -> list[str]:
        out = []
        if self.category not in KB_CATEGORIES:
            out.append(f"category must be one of {'、'.join(KB_CATEGORIES)}")
        if not self.title.strip():
            out.append("title must not be empty")
        elif len(self.title.strip()) > MAX_TITLE:
            out.append(f"title is longer than {MAX_TITLE} characters")
        if not self.answer.strip():
            out.append("answer must not be empty")
        elif len(self.answer) > MAX_ANSWER:
            out.append(f"answer is longer than {MAX_ANSWER} characters")
        if len(self.source) > MAX_SOURCE:
            out.append(f"source is longer than {MAX_SOURCE} characters")
        if len(keywords_text(self.keywords)) > MAX_KEYWORDS:
            out.append(f"keywords are longer than {MAX_KEYWORDS} characters in all")
        return out


def keywords_text(keywords: tuple[str, ...]) -> str:
    return ",".join(k.strip() for k in keywords if k.strip())


def split_keywords(value: str) -> tuple[str, ...]:
    """Keywords as people type them: separated by commas, 、, ； or spaces."""
    for sep in "，、;；\n\t ":
        value = value.replace(sep, ",")
    return tuple(dict.fromkeys(k for k in (p.strip() for p in value.split(",")) if k))


def is_valid(article: KnowledgeArticle, today: date) -> bool:
    """Agents may read it today: active and not past its last valid day."""
    return article.active and (article.valid_until is None or article.valid_until >= today)


def _apply(article: KnowledgeArticle, draft: ArticleDraft) -> None:
    article.category, article.title = draft.category, draft.title.strip()
    article.answer, article.source = draft.answer.strip(), draft.source.strip()
    article.department_id, article.valid_until = draft.department_id, draft.valid_until
    article.keywords, article.active = keywords_text(draft.keywords), draft.active
    seg = segmenter()
    article.search_title = seg.index_text(f"{article.title} {' '.join(draft.keywords)}")
    article.search_body = seg.index_text(article.answer)


def _snapshot(article: KnowledgeArticle, user_id: int | None, now: datetime,
              note: str) -> KnowledgeArticleVersion:
    return KnowledgeArticleVersion(
        article_id=article.id, version=article.version, category=article.category,
        department_id=article.department_id, title=article.title, answer=article.answer,
        source=article.source, valid_until=article.valid_until, keywords=article.keywords,
        active=article.active, edited_at=now, user_id=user_id, note=note[:200])


def _check(session: Session, draft: ArticleDraft) -> None:
    problems = draft.problems()
    if draft.department_id is not None and session.get(Department, draft.department_id) is None:
        problems.append(f"unknown department {draft.department_id}")
    if problems:
        raise KnowledgeError("; ".join(problems))


def create_article(session: Session, draft: ArticleDraft, *, user_id: int | None,
                   now: datetime, ref: str | None = None, note: str = "created",
                   audited: bool = True) -> KnowledgeArticle:
    """A new article, version 1.  ``audited`` False only for the demo seed."""
    _check(session, draft)
    article = KnowledgeArticle(ref=ref, version=1, created_at=now, updated_at=now,
                               created_by=user_id, updated_by=user_id)
    _apply(article, draft)
    session.add(article)
    session.flush()
    session.add(_snapshot(article, user_id, now, note))
    if audited:
        audit(session, user_id=user_id, action="kb_create", target=f"kb_article:{article.id}",
              detail=f"v1 {article.title}", now=now)
    session.flush()
    return article


def _same(article: KnowledgeArticle, draft: ArticleDraft) -> bool:
    return (article.category, article.title, article.answer, article.source,
            article.department_id, article.valid_until, article.keywords, article.active) == (
        draft.category, draft.title.strip(), draft.answer.strip(), draft.source.strip(),
        draft.department_id, draft.valid_until, keywords_text(draft.keywords), draft.active)


def edit_article(session: Session, article_id: int, draft: ArticleDraft, *,
                 expected_version: int | None, user_id: int | None, now: datetime,
                 note: str = "") -> KnowledgeArticle:
    """Save an edit as the next version.

    ``expected_version`` is the version the editor started from: if someone
    saved in between, the edit is refused rather than silently overwriting
    theirs (None: no check, for imports).  An edit that changes nothing
    makes no version.
    """
    article = session.get(KnowledgeArticle, article_id, with_for_update=True)
    if article is None:
        raise KnowledgeError(f"unknown article {article_id}")
    if expected_version is not None and article.version != expected_version:
        raise StaleEdit(f"article {article_id} is at version {article.version} now, "
                             f"not {expected_version}: reload it and edit again")
    _check(session, draft)
    if _same(article, draft):
        return article
    _apply(article, draft)
    article.version += 1
    article.updated_at, article.updated_by = now, user_id
    session.add(_snapshot(article, user_id, now, note or "edited"))
    audit(session, user_id=user_id, action="kb_edit", target=f"kb_article:{article.id}",
          detail=f"v{article.version} {article.title}" + (f" ({note})" if note else ""), now=now)
    session.flush()
    return article


def article_to_dict(article: KnowledgeArticle, today: date,
                    departments: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": article.id, "ref": article.ref, "category": article.category,
        "department_id": article.department_id,
        "department": (departments or {}).get(article.department_id or 0),
        "title": article.title, "answer": article.answer, "source": article.source,
        "valid_until": article.valid_until.isoformat() if article.valid_until else None,
        "keywords": split_keywords(article.keywords), "active": article.active,
        "expired": article.valid_until is not None and article.valid_until < today,
        "version": article.version, "updated_at": article.updated_at.isoformat(),
        "updated_by": article.updated_by,
    }


def department_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Department.id, Department.name))}


def history(session: Session, article_id: int) -> list[dict[str, Any]]:
    """Every version of the article, oldest first."""
    rows = session.scalars(select(KnowledgeArticleVersion)
                           .where(KnowledgeArticleVersion.article_id == article_id)
                           .order_by(KnowledgeArticleVersion.version))
    return [{"version": v.version, "edited_at": v.edited_at.isoformat(), "user_id": v.user_id,
             "note": v.note, "category": v.category, "department_id": v.department_id,
             "title": v.title, "answer": v.answer, "source": v.source,
             "valid_until": v.valid_until.isoformat() if v.valid_until else None,
             "keywords": split_keywords(v.keywords), "active": v.active} for v in rows]


def search(session: Session, query: str, *, today: date, include_hidden: bool = False,
           limit: int = 10, category: str | None = None,
           department_id: int | None = None) -> list[dict[str, Any]]:
    """Articles for a query or a transcript, best first, with their score.

    Agents get ``include_hidden=False``: only articles valid today.
    """
    hits = search_ids(session, query, today=None if include_hidden else today, limit=limit,
                      category=category, department_id=department_id)
    articles = {a.id: a for a in session.scalars(select(KnowledgeArticle).where(
        KnowledgeArticle.id.in_([h.article_id for h in hits])))}
    names = department_names(session)
    return [{**article_to_dict(articles[h.article_id], today, names), "score": round(h.score, 4)}
            for h in hits]


def _listed(session: Session, stmt: Any, today: date, **equal: Any) -> list[dict[str, Any]]:
    """``stmt``'s articles as dicts, narrowed to the given column values (None: any)."""
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(getattr(KnowledgeArticle, column) == value)
    names = department_names(session)
    return [article_to_dict(a, today, names) for a in session.scalars(stmt)]


def browse(session: Session, *, today: date, include_hidden: bool = False,
           category: str | None = None, department_id: int | None = None,
           limit: int = 200) -> list[dict[str, Any]]:
    """Articles by category and title (no query): the console's list."""
    stmt = select(KnowledgeArticle).order_by(KnowledgeArticle.category, KnowledgeArticle.title,
                                             KnowledgeArticle.id).limit(limit)
    if not include_hidden:
        stmt = stmt.where(KnowledgeArticle.active, or_(KnowledgeArticle.valid_until.is_(None),
                                                       KnowledgeArticle.valid_until >= today))
    return _listed(session, stmt, today, category=category, department_id=department_id)


def expired_for_owner(session: Session, *, today: date, department_id: int | None = None,
                      editor_id: int | None = None) -> list[dict[str, Any]]:
    """Active articles past their last valid day, for whoever must renew them:
    a department's own, an editor's (last edited by them), or all (neither)."""
    stmt = select(KnowledgeArticle).where(
        KnowledgeArticle.active, KnowledgeArticle.valid_until < today
    ).order_by(KnowledgeArticle.valid_until, KnowledgeArticle.id)
    return _listed(session, stmt, today, department_id=department_id, updated_by=editor_id)


def article_for_order(session: Session, article_id: int, today: date) -> KnowledgeArticle:
    """The article an agent cites when submitting an order: it must be one
    agents may read today (an expired answer must not be given)."""
    article = session.get(KnowledgeArticle, article_id)
    if article is None:
        raise KnowledgeError(f"unknown knowledge-base article {article_id}")
    if not is_valid(article, today):
        raise KnowledgeError(f"article {article_id} ({article.title}) is withdrawn or expired; "
                             "it cannot be given as an answer")
    return article
