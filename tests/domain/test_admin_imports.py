"""`hotline import` and its upload: every row checked, every bad row named
by its line, nothing imported from a file with a bad row; CSV (UTF-8 or
GB18030) and XLSX; dry runs write nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from admin import imports, service
from admin.kinds import KINDS
from agents.models import Agent
from core.db import Database
from hotline.cli import main as hotline
from hotline.migrate import upgrade
from routing.models import AuditEntry
from tests.domain.conftest import SEEDED_AT

BAD_AGENTS = """number,name,team,phone,skills
2001,新人甲,A,PJSIP/2001,help:0
2002,,A,2002,
2003,新人丙,Z,2003,help:0
1001,王丽娟,B,PJSIP/1001,
2004,新人丁,A,PJSIP/1002,help:1
2005,新人戊,A,2005,help:x
2001,重复,A,2006,
"""


def run_import(db, kind, data, form="csv", dry_run=False):
    rows = imports.read_rows(data, form)
    return db.call(lambda s: imports.import_rows(s, KINDS[kind], rows, user_id=1, now=SEEDED_AT,
                                                 dry_run=dry_run, via="test"))


def state(db):
    def work(s):
        agents = {a.number: (a.name, a.team_id, a.interface) for a in s.scalars(select(Agent))}
        audit = s.scalars(select(AuditEntry.action)).all()
        return agents, audit
    return db.call(work)


def test_given_a_file_with_bad_rows_then_nothing_changes_and_each_bad_row_is_named(db):
    before, _ = state(db)
    report = run_import(db, "agents", BAD_AGENTS.encode())
    after, audit = state(db)
    assert after == before  # 2001 not created, 1001 still in team A
    assert not report.ok and report.to_dict()["imported"] is False
    assert [(line, p.field, p.message) for line, p in report.problems] == [
        (3, "name", "is required"),
        (4, "team", "no team Z"),
        (6, "phone", "PJSIP/1002 already rings for agent 1002"),
        (7, "skills", "help: the penalty is a whole number from 0 to 99"),
        (8, "number", "2001 is also on line 2"),
    ]
    assert report.lines()[-1] == "5 of 7 rows are bad: nothing imported"
    assert audit == ["import_agents_refused"]  # who tried is kept; nothing else


def test_given_a_good_file_then_new_rows_are_created_and_known_ones_changed(db):
    good = "\n".join(BAD_AGENTS.splitlines()[:2] + [BAD_AGENTS.splitlines()[4]]) + "\n"
    dry = run_import(db, "agents", good.encode(), dry_run=True)
    assert (dry.ok, dry.created, dry.changed) == (True, 1, 1)
    assert "2001" not in state(db)[0]  # a dry run writes nothing
    report = run_import(db, "agents", good.encode())
    agents, audit = state(db)
    assert (report.ok, report.created, report.changed) == (True, 1, 1)
    assert agents["2001"][0] == "新人甲" and agents["1001"][1] == 2  # team B
    assert audit == ["agent_create", "agent_edit", "import_agents"]


def test_given_a_gb18030_csv_with_chinese_headers_then_departments_import(db):
    data = ("单位代码,单位名称,联系人,联系电话\n"
            "QXJ,宝鸡市气象局,赵工,0917-3456789\n"
            "SJJ,宝鸡市市场监督管理局（改）,,\n").encode("gb18030")
    report = run_import(db, "departments", data)
    assert (report.ok, report.created, report.changed) == (True, 1, 1), report.lines()
    listed = {d["code"]: d for d in db.call(lambda s: service.listing(
        s, KINDS["departments"], SEEDED_AT))}
    assert (listed["QXJ"]["contact_name"], listed["QXJ"]["contact_phone"]) == (
        "赵工", "09173456789")
    assert listed["SJJ"]["name"] == "宝鸡市市场监督管理局（改）"


def xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_given_an_xlsx_of_lines_then_numbers_typed_as_numbers_import(db):
    data = xlsx([["号码", "热线名称", "类型", "类别", "单位代码", "备注"],
                 [12399, "纪检监察举报电话", "special", None, None, "请直接拨打12399"],
                 [None, None, None, None, None, None],
                 [12301.0, "旅游服务热线", "dual", "complaint", "SJJ", None],
                 [12302, "原城管热线", "dual", "cooking", "NOPE", None]])
    report = run_import(db, "lines", data, form="xlsx")
    assert [(line, p.field) for line, p in report.problems] == [(5, "category"),
                                                                (5, "department")]
    report = run_import(db, "lines", xlsx([
        ["号码", "热线名称", "类型", "类别", "单位代码"],
        [12399, "纪检监察举报电话", "special", None, None],
        [12301.0, "旅游服务热线", "dual", "complaint", "SJJ"]]), form="xlsx")
    assert (report.ok, report.created) == (True, 2), report.lines()


def test_given_files_that_are_not_tables_then_the_whole_file_is_refused():
    with pytest.raises(imports.FileProblem, match="not an XLSX workbook"):
        imports.read_rows(b"number,name\n", "xlsx")
    with pytest.raises(imports.FileProblem, match="empty"):
        imports.read_rows(b"\n\n", "csv")
    with pytest.raises(imports.FileProblem, match=".csv or .xlsx"):
        imports.form_of("agents.xls")


def test_given_a_new_database_then_the_cli_sets_the_city_up(tmp_path, monkeypatch, capsys):
    """`hotline serve` on a new database: no seed, everything from the CLI."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    db = Database(url)
    upgrade(db.engine)
    assert hotline(["admin", "create", "teams", "code=A", "name=一班", "rota_index=0"]) == 0
    assert hotline(["admin", "create", "teams", "code=B", "name=二班", "rota_index=x"]) == 2
    assert "rota_index: must be a whole number" in capsys.readouterr().err
    (tmp_path / "agents.csv").write_text("工号,姓名,班组,分机\n3001,甲,A,3001\n3002,乙,B,3002\n",
                                         encoding="utf-8")
    assert hotline(["import", "agents", str(tmp_path / "agents.csv")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "line 3: team: no team B", "1 of 2 rows are bad: nothing imported"]
    assert hotline(["admin", "create", "teams", "code=B", "name=二班", "rota_index=1"]) == 0
    assert hotline(["import", "agents", str(tmp_path / "agents.csv"), "--dry-run"]) == 0
    assert db.call(lambda s: s.scalar(select(func.count(Agent.id)))) == 0
    assert hotline(["import", "agents", str(tmp_path / "agents.csv")]) == 0
    assert hotline(["admin", "edit", "agents", "3002", "team=A", "skills=help:0"]) == 0
    assert hotline(["admin", "deactivate", "teams", "B"]) == 0
    capsys.readouterr()
    assert hotline(["admin", "deactivate", "teams", "A"]) == 2
    assert "2 active agents are still in team A" in capsys.readouterr().err
    audit = db.call(lambda s: [(e.action, e.detail.split(":")[0]) for e in s.scalars(
        select(AuditEntry).order_by(AuditEntry.id))])
    db.close()
    assert [a for a, _ in audit] == [
        "team_create", "import_agents_refused", "team_create", "agent_create", "agent_create",
        "import_agents", "agent_edit", "team_deactivate"]
    assert all(via.startswith("cli") for action, via in audit if not action.startswith("imp"))
