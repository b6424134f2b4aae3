"""Chinese full-text search of the knowledge base.

Chinese has no spaces, and trigram or character indexes cannot find a
two-character word like 路灯 without also finding 道路's 路.  So the text
is cut into words with jieba (its dictionary plus ``kb_words.txt``, the
hotline's own words) before it is indexed and before it is queried, and
the database indexes the space-joined words: SQLite with FTS5 (unicode61
splits on the spaces), PostgreSQL with a GIN index over a stored
``to_tsvector('simple', ...)`` column.  Titles and keywords weigh more than the
answer's text; any query word may match, more and rarer matches rank
higher (bm25 / ts_rank).

``kb_words.txt`` (jieba's user-dictionary format: word, frequency, part of
speech; no comments allowed) raises the hotline's words and lowers a few of
jieba's own that swallow them: with 灯不亮 in jieba's dictionary,
小区路灯不亮 would cut as 小区/路/灯不亮 and 路灯 would not be found.

jieba's dictionary takes 0.5-1.3 s and about 60 MB to load: it
is loaded once per process, on first use or by :meth:`Segmenter.warm_up`
from the assembly, never at import time.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

WORDS_FILE = Path(__file__).resolve().parent / "kb_words.txt"
MAX_QUERY_TERMS = 32


# Words that say nothing about the matter; dropped from index and queries so
# that a transcript's "我家的…了吗" does not match every article.
STOPWORDS = frozenset("""
的 了 是 在 我 你 您 他 她 它 我们 你们 他们 咱们 有 和 与 及 或 也 都 就 要 会 能 这 那
这个 那个 这里 那里 这儿 那儿 啊 吗 呢 吧 呀 哦 嗯 哎 喂 请 请问 一下 怎么 怎么办 怎样 什么
如何 为什么 可以 能不能 没有 没 不 不是 一个 还 又 被 把 给 让 对 从 到 向 说 想 问 问题
情况 现在 已经 就是 然后 还是 但是 所以 因为 如果 您好 你好 谢谢 麻烦 帮 帮忙 一直 好 很 太
个 里 上 下 去 来 着 过 得 地 等 等等 之 其 而 并 吧
""".split())
_WORD = re.compile(r"\w")


class Segmenter:
    """jieba with the hotline's dictionary, loaded on first use (thread-safe)."""

    def __init__(self, words_file: Path = WORDS_FILE) -> None:
        self._words_file = words_file
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _jieba(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    tokenizer.load_userdict(str(self._words_file))
                    self._tokenizer = tokenizer
        return self._tokenizer

    def warm_up(self) -> None:
        """Load the dictionary now (the assembly calls this off the event loop)."""
        self._jieba()

    def words(self, value: str) -> list[str]:
        """The meaningful words of ``value``, in order, repeats kept.

        Search-engine mode: a long word also yields the words inside it
        (社保卡 -> 社保, 社保卡), so either finds the other.  No HMM guessing
        of unknown words, so the same text always cuts the same way.
        """
        cut = self._jieba().cut_for_search(value.lower(), HMM=False)
        return [w for w in (t.strip() for t in cut)
                if w and _WORD.search(w) and w not in STOPWORDS]

    def index_text(self, value: str) -> str:
        """What the index stores for ``value``: its words joined by spaces."""
        return " ".join(self.words(value))

    def query_terms(self, value: str) -> list[str]:
        """Distinct words of a query or transcript, first ones first."""
        return list(dict.fromkeys(self.words(value)))[:MAX_QUERY_TERMS]


_SEGMENTER = Segmenter()


def segmenter() -> Segmenter:
    """The process's one segmenter (its dictionary loads on first use)."""
    return _SEGMENTER


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    score: float  # higher is better, comparable within one search only


def _fts5_match(terms: list[str]) -> str:
    # Each word a quoted FTS5 string (quotes doubled), any of them may match.
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def search_ids(
    session: Session, query: str, *, today: date | None, limit: int = 10,
    category: str | None = None, department_id: int | None = None,
) -> list[SearchHit]:
    """Articles matching ``query``, best first.

    ``today`` set: only active articles valid on that local day (what an
    agent may read); None: every article, withdrawn and expired included.
    """
    terms = segmenter().query_terms(query)
    if not terms:
        return []
    where: list[str] = ["1=1"]
    params: dict[str, Any] = {"limit": limit}
    if today is not None:
        where.append("a.active AND (a.valid_until IS NULL OR a.valid_until >= :today)")
        params["today"] = today
    if category is not None:
        where.append("a.category = :category")
        params["category"] = category
    if department_id is not None:
        where.append("a.department_id = :department_id")
        params["department_id"] = department_id
    if session.get_bind().dialect.name == "postgresql":
        query_sql = " || ".join(f"plainto_tsquery('simple'::regconfig, :t{i})"
                                for i in range(len(terms)))
        params.update({f"t{i}": t for i, t in enumerate(terms)})
        # search_vector: a stored generated column with a GIN index (migration 0010).
        sql = ("SELECT a.id, ts_rank(a.search_vector, q) AS score "
               f"FROM kb_articles a, ({'SELECT ' + query_sql}) AS x(q) "
               f"WHERE a.search_vector @@ q AND {' AND '.join(where)} "
               "ORDER BY score DESC, a.id LIMIT :limit")
    else:
        params["match"] = _fts5_match(terms)
        # bm25 is lower for better matches; title and keywords weigh 5x.
        sql = ("SELECT a.id, -bm25(kb_articles_fts, 5.0, 1.0) AS score "
               "FROM kb_articles_fts JOIN kb_articles a ON a.id = kb_articles_fts.rowid "
               f"WHERE kb_articles_fts MATCH :match AND {' AND '.join(where)} "
               "ORDER BY score DESC, a.id LIMIT :limit")
    rows = session.execute(text(sql), params).all()
    return [SearchHit(int(r[0]), float(r[1])) for r in rows]
