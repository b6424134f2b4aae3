"""The knowledge base on SQLite and PostgreSQL: Chinese search segmented by
jieba, versions and audit, expiry, imports that are all or nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calls import records
from hotline.seed import seed_demo_city
from routing.models import AuditEntry
from tests.helpers import record_answer
from worksheets import knowledge
from worksheets.knowledge import ArticleDraft, KnowledgeError
from worksheets.knowledge_import import ImportRefused, import_rows, read_rows
from worksheets.knowledge_models import KnowledgeArticle, KnowledgeArticleVersion
from worksheets.knowledge_search import segmenter

NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)
TODAY = date(2026, 12, 1)


def add(session: Session, title: str, answer: str = "请派单处理。", **extra: object
        ) -> KnowledgeArticle:
    draft = ArticleDraft(category=str(extra.pop("category", "市政设施")), title=title,
                         answer=answer, **extra)  # type: ignore[arg-type]
    return knowledge.create_article(session, draft, user_id=None, now=NOW)


def titles(session: Session, query: str, **kw: object) -> list[str]:
    return [a["title"] for a in knowledge.search(session, query, today=TODAY, **kw)]  # type: ignore[arg-type]


def test_given_segmented_text_then_street_light_found_in_its_sentence_not_in_road(
        db_session: Session) -> None:
    add(db_session, "小区路灯不亮")
    add(db_session, "道路")
    add(db_session, "路面塌陷", answer="道路塌陷属紧急情况。")
    db_session.commit()
    assert titles(db_session, "路灯") == ["小区路灯不亮"]
    assert titles(db_session, "道路") == ["道路", "路面塌陷"]  # title outweighs the answer
    assert "小区路灯不亮" not in titles(db_session, "道路")
    assert titles(db_session, "灯") == []  # a character inside a word is no word


def test_given_starter_base_then_noise_social_insurance_and_lights_rank_their_articles(
        db_session: Session) -> None:
    seed = seed_demo_city(db_session, NOW)
    db_session.commit()
    assert seed.articles_created >= 30
    assert db_session.scalars(select(AuditEntry)).all() == []  # seeding is no one's edit
    noise = titles(db_session, "噪音")
    assert len(noise) >= 3 and all("噪音" in t for t in noise[:3])
    assert titles(db_session, "社保卡丢了怎么办")[0] == "社保卡丢失如何补办"
    assert titles(db_session, "社保")[0].startswith("社保卡")
    lights = titles(db_session, "我家小区的路灯坏了好几天了，晚上不亮")
    assert set(lights[:2]) == {"小区院内路灯、楼道灯不亮由谁负责", "小区外道路路灯不亮怎么报修"}
    # A second run creates nothing and keeps editors' changes.
    assert seed_demo_city(db_session, NOW).articles_created == 0


def test_given_expired_or_withdrawn_article_then_agents_do_not_find_it_but_owners_list_it(
        db_session: Session) -> None:
    seed_demo_city(db_session, NOW)
    dept = db_session.scalars(select(KnowledgeArticle.department_id)).first()
    old = add(db_session, "2026年夏季停水安排", department_id=dept,
              valid_until=TODAY - timedelta(days=1))
    add(db_session, "停水通知已撤回", active=False)
    today_last = add(db_session, "今天最后有效的停水说明", valid_until=TODAY)
    db_session.commit()
    found = titles(db_session, "停水")
    assert old.title not in found and "停水通知已撤回" not in found
    assert today_last.title in found
    assert old.title in titles(db_session, "停水", include_hidden=True)
    listed = knowledge.expired_for_owner(db_session, today=TODAY, department_id=dept)
    assert old.title in [a["title"] for a in listed] and all(a["expired"] for a in listed)
    assert knowledge.expired_for_owner(db_session, today=TODAY, department_id=-1) == []


def test_given_edits_then_each_is_a_version_audited_and_a_stale_edit_is_refused(
        db_session: Session) -> None:
    article = add(db_session, "井盖缺失", keywords=("井盖",))
    draft = ArticleDraft(category="市政设施", title="道路井盖缺失或破损",
                         answer="2小时内设置警示。", keywords=("井盖", "破损"))
    knowledge.edit_article(db_session, article.id, draft, expected_version=1, user_id=None,
                           now=NOW + timedelta(hours=1), note="补充时限")
    with pytest.raises(KnowledgeError, match="version 2"):
        knowledge.edit_article(db_session, article.id, draft, expected_version=1, user_id=None,
                               now=NOW)
    same = knowledge.edit_article(db_session, article.id, draft, expected_version=2,
                                  user_id=None, now=NOW)
    db_session.commit()
    assert same.version == 2  # nothing changed: no version
    history = knowledge.history(db_session, article.id)
    assert [(v["version"], v["title"], v["note"]) for v in history] == [
        (1, "井盖缺失", "created"), (2, "道路井盖缺失或破损", "补充时限")]
    assert history[1]["keywords"] == ("井盖", "破损")
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["kb_create", "kb_edit"]
    assert titles(db_session, "破损") == ["道路井盖缺失或破损"]  # the index follows the edit
    with pytest.raises(KnowledgeError, match="category"):
        knowledge.create_article(db_session, ArticleDraft(category="杂项", title="x", answer="y"),
                                 user_id=None, now=NOW)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_given_file_with_bad_rows_then_every_one_reported_by_line_and_nothing_imported(
        db_session: Session, tmp_path: Path) -> None:
    seed_demo_city(db_session, NOW)
    db_session.commit()
    before = db_session.scalar(select(func.count()).select_from(KnowledgeArticle))
    csv_file = write(tmp_path, "kb.csv", (
        "ref,category,department, Title ,answer,valid_until,keywords\n"
        "T-1,市政设施,CGJ,路灯报修,记录灯杆编号,2027-12-31,路灯;报修\n"
        "T-2,杂项,CGJ,坏类别,答案,,\n"
        'T-3,交通出行,NOPE,"多行\n标题",答案,2027-02-30,\n'
        "T-1,交通出行,JTJ,重复,答案,,\n"
        "T-5,交通出行,JTJ,,,,\n"
        "T-6,交通出行,JTJ,多一列,答案,,,多余\n"))
    with pytest.raises(ImportRefused) as refused:
        import_rows(db_session, read_rows(csv_file), user_id=None, now=NOW)
    lines = [(p.line, p.message.split(" ")[0]) for p in refused.value.problems]
    assert [line for line, _ in lines] == [3, 4, 6, 7, 8]
    assert "more values" in refused.value.problems[4].message
    assert "category" in refused.value.problems[0].message
    assert "NOPE" in refused.value.problems[1].message
    assert "line 2" in refused.value.problems[2].message
    assert "title" in refused.value.problems[3].message and "answer" in str(
        refused.value.problems[3])
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(KnowledgeArticle)) == before

    rows = [{"ref": "J-1", "category": "交通出行", "department": "宝鸡市交通运输局",
             "title": "网约车投诉", "answer": "记录车牌号。", "keywords": ["网约车", "投诉"]},
            {"ref": "J-2", "category": "交通出行", "title": "x", "answer": "y", "colour": 1}]
    json_file = write(tmp_path, "kb.json", json.dumps(rows, ensure_ascii=False, indent=2))
    with pytest.raises(ImportRefused) as refused:
        import_rows(db_session, read_rows(json_file), user_id=None, now=NOW)
    assert [(p.line, "colour" in p.message) for p in refused.value.problems] == [(13, True)]
    db_session.rollback()

    good = write(tmp_path, "good.json", json.dumps(rows[:1], ensure_ascii=False))
    report = import_rows(db_session, read_rows(good), user_id=None, now=NOW)
    assert report.to_dict() == {"created": 1, "updated": 0, "unchanged": 0}
    rows[0]["answer"] = "记录车牌号和上车时间。"
    good.write_text(json.dumps(rows[:1], ensure_ascii=False), encoding="utf-8")
    again = import_rows(db_session, read_rows(good), user_id=None, now=NOW)
    assert again.to_dict() == {"created": 0, "updated": 1, "unchanged": 0}
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(KnowledgeArticleVersion).where(
        KnowledgeArticleVersion.article_id == again.article_ids[0])) == 2
    assert titles(db_session, "网约车")[0] == "网约车投诉"


def test_given_text_then_words_not_characters_and_no_filler() -> None:
    seg = segmenter()
    assert seg.query_terms("小区路灯不亮") == ["小区", "路灯", "不亮"]
    assert seg.query_terms("请问我家的社保卡丢了怎么办？") == ["我家", "社保", "社保卡", "丢"]
    assert seg.index_text("道路") == "道路"
    assert seg.query_terms("，。！") == []


def test_given_article_cited_at_submission_then_order_keeps_it_and_a_consultation_closes(
        db_session: Session, calendar, tz) -> None:
    from worksheets import service
    from worksheets.models import Department

    seed_demo_city(db_session, NOW)
    dept = db_session.scalars(select(Department.id)).first()
    article = db_session.scalars(select(KnowledgeArticle).where(
        KnowledgeArticle.ref == "BJ-KB-012")).one()  # 社保卡丢失如何补办
    orders = []
    for i, (category, department) in enumerate((("consult", None), ("consult", dept),
                                                 ("help", dept))):
        uid = f"k.{i}"
        records.start_call(db_session, uniqueid=uid, now=NOW, caller_number="13800138000")
        draft = record_answer(db_session, uid, member_name="m", agent_id=None,
                              hold_seconds=1, now=NOW)
        orders.append(service.submit_work_order(
            db_session, draft.id, agent_id=None, title="社保卡丢了", description="",
            category=category, complexity="ordinary" if category == "help" else None,
            department_id=department, answered_on_call=False, now=NOW, calendar=calendar,
            tz=tz, kb_article_id=article.id))
    assert [(o.status, o.answered_on_call, o.kb_article_id, o.kb_article_version)
            for o in orders] == [("closed", True, article.id, 1),
                                 ("dispatched", False, article.id, 1),
                                 ("dispatched", False, article.id, 1)]
    assert orders[0].closed_at == NOW and orders[0].due_date is None
    article.valid_until = TODAY - timedelta(days=1)
    records.start_call(db_session, uniqueid="k.x", now=NOW)
    draft = record_answer(db_session, "k.x", member_name="m", agent_id=None,
                          hold_seconds=1, now=NOW)
    with pytest.raises(service.WorkOrderError, match="expired"):
        service.submit_work_order(
            db_session, draft.id, agent_id=None, title="社保卡", description="",
            category="consult", complexity=None, department_id=None, answered_on_call=False,
            now=NOW, calendar=calendar, tz=tz, kb_article_id=article.id)
