"""REST handlers of the knowledge base: agents search and read it during a
call (and get suggestions from the caller's description), supervisors and
admins edit it, departments and editors see their expired articles."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, principal
from console.routing_table import RouteSpec, bad_request, json_error, path_id, read_json
from worksheets import knowledge
from worksheets.knowledge_import import FIELDS, department_keys, draft_from_fields
from worksheets.knowledge_models import KnowledgeArticle
from worksheets.knowledge_search import segmenter

EDITORS = ("supervisor",)  # and admin, who passes every role check
MAX_RESULTS = 50


def _today(request: web.Request) -> date:
    deps = request.app[DEPS_KEY]
    return deps.clock.now().astimezone(deps.settings.tz).date()


def _sees_hidden(request: web.Request) -> bool:
    """Editors may ask for withdrawn and expired articles; agents never see them."""
    return principal(request).role in ("supervisor", "admin") and \
        request.query.get("include_hidden") in ("1", "true")


def _int_query(request: web.Request, name: str, default: int | None) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise bad_request("invalid", f"{name} must be a number") from None


async def list_articles(request: web.Request) -> web.Response:
    """``q`` given: search, best first; else the articles by category and title."""
    deps = request.app[DEPS_KEY]
    query = request.query.get("q", "").strip()[:4000]
    category = request.query.get("category") or None
    department_id = _int_query(request, "department_id", None)
    limit = max(1, min(_int_query(request, "limit", 20) or 20, 200))
    today, hidden = _today(request), _sees_hidden(request)

    def work(s: Session) -> dict[str, Any]:
        if query:
            articles = knowledge.search(s, query, today=today, include_hidden=hidden,
                                        limit=min(limit, MAX_RESULTS), category=category,
                                        department_id=department_id)
        else:
            articles = knowledge.browse(s, today=today, include_hidden=hidden,
                                        category=category, department_id=department_id,
                                        limit=limit)
        # Cut here too, on the database thread rather than the event loop.
        return {"query": query, "terms": segmenter().query_terms(query), "articles": articles}

    return web.json_response(await deps.db.run(work))


async def suggest(request: web.Request) -> web.Response:
    """Articles for what the caller said (the description transcript) or the
    agent wrote; only articles valid today."""
    deps = request.app[DEPS_KEY]
    data = await read_json(request)
    text = data.get("text")
    if not isinstance(text, str):
        return json_error(400, "invalid", "text must be a string")
    limit = data.get("limit", 5)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 20:
        return json_error(400, "invalid", "limit must be 1-20")
    today, said = _today(request), text[:4000]
    return web.json_response(await deps.db.run(lambda s: {
        "terms": segmenter().query_terms(said),
        "articles": knowledge.search(s, said, today=today, limit=limit)}))


NO_ARTICLE = "no such article"


async def get_article(request: web.Request) -> web.Response:
    """One article; editors and its department also get every version."""
    deps = request.app[DEPS_KEY]
    article_id, p = path_id(request, "article_id", NO_ARTICLE), principal(request)
    today = _today(request)

    def work(s: Session) -> dict[str, Any] | None:
        article = s.get(KnowledgeArticle, article_id)
        if article is None:
            return None
        owner = p.role in ("supervisor", "admin") or (
            p.role == "department" and p.department_id is not None
            and p.department_id == article.department_id)
        if not owner and not knowledge.is_valid(article, today):
            return None  # hidden from agents and other departments
        data = knowledge.article_to_dict(article, today, knowledge.department_names(s))
        if owner:
            data["history"] = knowledge.history(s, article_id)
        return data

    data = await deps.db.run(work)
    if data is None:
        return json_error(404, "not_found", f"no article {article_id} for you")
    return web.json_response(data)


def _draft(s: Session, body: dict[str, Any]) -> tuple[str | None, knowledge.ArticleDraft]:
    try:
        return draft_from_fields(body, department_keys(s))
    except ValueError as exc:
        raise knowledge.KnowledgeError(str(exc)) from None


async def _save(request: web.Request, work: Any) -> web.Response:
    deps = request.app[DEPS_KEY]
    try:
        data = await deps.db.run(work)
    except knowledge.StaleEdit as exc:
        return json_error(409, "stale", str(exc))
    except knowledge.KnowledgeError as exc:
        return json_error(400, "invalid", str(exc))
    return web.json_response(data)


async def create_article(request: web.Request) -> web.Response:
    body = await read_json(request)
    p, now, today = principal(request), request.app[DEPS_KEY].clock.now(), _today(request)

    def work(s: Session) -> dict[str, Any]:
        ref, draft = _draft(s, body)
        article = knowledge.create_article(s, draft, user_id=p.user_id, now=now, ref=ref)
        return knowledge.article_to_dict(article, today, knowledge.department_names(s))

    return await _save(request, work)


async def edit_article(request: web.Request) -> web.Response:
    """Save the next version; ``version`` is the one the editor loaded."""
    body = await read_json(request)
    version, note = body.pop("version", None), body.pop("note", "")
    if not isinstance(version, int) or isinstance(version, bool):
        return json_error(400, "invalid", "version (the version you edited) is required")
    if not isinstance(note, str):
        return json_error(400, "invalid", "note must be text")
    if "ref" in body:
        return json_error(400, "invalid", "ref cannot be changed")
    article_id, p = path_id(request, "article_id", NO_ARTICLE), principal(request)
    now, today = request.app[DEPS_KEY].clock.now(), _today(request)

    def work(s: Session) -> dict[str, Any]:
        _, draft = _draft(s, body)
        article = knowledge.edit_article(s, article_id, draft, expected_version=version,
                                         user_id=p.user_id, now=now, note=note)
        return knowledge.article_to_dict(article, today, knowledge.department_names(s))

    return await _save(request, work)


async def expired(request: web.Request) -> web.Response:
    """Expired articles for their owners: a department its own; a supervisor
    those they last edited (``all=1``: every one); an admin every one."""
    deps = request.app[DEPS_KEY]
    p, today = principal(request), _today(request)
    if p.role == "department":
        if p.department_id is None:
            return json_error(403, "no_department", "this login is not linked to a department")
        owner: dict[str, int | None] = {"department_id": p.department_id}
    elif p.role == "supervisor" and request.query.get("all") not in ("1", "true"):
        owner = {"editor_id": p.user_id}
    else:
        owner = {}
    rows = await deps.db.run(lambda s: knowledge.expired_for_owner(s, today=today, **owner))
    return web.json_response({"today": today.isoformat(), "articles": rows})


async def categories(request: web.Request) -> web.Response:
    return web.json_response({"categories": list(knowledge.KB_CATEGORIES),
                              "fields": list(FIELDS)})




ARTICLE_SCHEMA = {
    "type": "object", "required": ["category", "title", "answer"],
    "properties": {
        "ref": {"type": "string", "maxLength": 64},
        "category": {"enum": list(knowledge.KB_CATEGORIES)},
        "department": {"type": ["string", "integer", "null"],
                       "description": "department code, name or id"},
        "title": {"type": "string", "maxLength": knowledge.MAX_TITLE},
        "answer": {"type": "string"}, "source": {"type": "string"},
        "valid_until": {"type": ["string", "null"], "format": "date",
                        "description": "last local day the answer holds"},
        "keywords": {"type": ["array", "string"]}, "active": {"type": "boolean"},
        "version": {"type": "integer", "description": "edit only: the version you loaded"},
        "note": {"type": "string", "description": "edit only: why"},
    },
}
ID = (("article_id", "path", "article id"),)
READERS = ("agent", "supervisor", "department")

ROUTES = [
    RouteSpec("GET", "/api/kb/articles", list_articles,
              "Knowledge base: search (q, segmented Chinese, best first) or browse by category "
              "and department; agents see only articles valid today", roles=READERS,
              tags=("knowledge base",),
              params=(("q", "query", "words or a sentence"), ("category", "query", "category"),
                      ("department_id", "query", "department id"),
                      ("include_hidden", "query", "editors: 1 to include expired/withdrawn"),
                      ("limit", "query", "at most this many"))),
    RouteSpec("POST", "/api/kb/suggest", suggest,
              "Articles suggested for a text (the caller's description transcript)",
              roles=("agent", "supervisor"), tags=("knowledge base",),
              body={"type": "object", "required": ["text"],
                    "properties": {"text": {"type": "string"},
                                   "limit": {"type": "integer", "minimum": 1, "maximum": 20}}}),
    RouteSpec("GET", "/api/kb/articles/{article_id}", get_article,
              "One article (editors and its department: with every version)", roles=READERS,
              tags=("knowledge base",), params=ID),
    RouteSpec("POST", "/api/kb/articles", create_article, "Write a new article (audited)",
              roles=EDITORS, tags=("knowledge base",), body=ARTICLE_SCHEMA),
    RouteSpec("PUT", "/api/kb/articles/{article_id}", edit_article,
              "Save an edit as the next version (409 if someone saved since; audited)",
              roles=EDITORS, tags=("knowledge base",), body=ARTICLE_SCHEMA, params=ID),
    RouteSpec("GET", "/api/kb/expired", expired,
              "Expired articles for their owners (departments: theirs; supervisors: those they "
              "edited, all=1 for every one)", roles=("supervisor", "department"),
              tags=("knowledge base",), params=(("all", "query", "supervisors: 1 for all"),)),
    RouteSpec("GET", "/api/kb/categories", categories, "Article categories and fields",
              roles=READERS, tags=("knowledge base",)),
]
