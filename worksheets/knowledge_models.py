"""Tables of the knowledge base (知识库): articles and every version of them.

The search index is not a model: SQLite keeps an FTS5 table
(``kb_articles_fts``, kept by triggers) and PostgreSQL a stored generated
``search_vector`` tsvector column with a GIN index, both over the
jieba-segmented ``search_title`` and ``search_body`` columns; migration
0010 makes them (see worksheets/knowledge_search.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class KnowledgeArticle(Base):
    """An answer agents give on the phone, owned by a department.

    ``valid_until`` is the last local day the answer holds (None: no end);
    an expired article is hidden from agents and listed for its department
    and its last editor.  ``version`` counts edits; each is a
    :class:`KnowledgeArticleVersion` row.  ``ref`` is the key of an
    imported article (the import file's ``ref``), so a file can be imported
    again to update what it brought.
    """

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    category: Mapped[str] = mapped_column(String(32), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True,
                                                      default=None)
    title: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300), default="")
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: withdrawn
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Space-joined jieba tokens: title and keywords, and the answer.
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")


class KnowledgeArticleVersion(Base):
    """An article as it was after one edit (version 1: as created)."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    title: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300), default="")
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
