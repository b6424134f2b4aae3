"""The transfer contexts: rendered from the database (queues, department
contact numbers, 110/119/120) and held by check() to exactly those."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.asterisk_conf import check, render
from pbx.conf_reader import Dialplan, read_conf
from routing.menu import RoutingTable
from tests.asterisk_conf.test_check import conf, edit, errors, only_error  # noqa: F401
from tests.asterisk_conf.test_render import session, settings_for  # noqa: F401
from worksheets.models import Department


def test_the_committed_transfer_contexts_pass(conf: Path) -> None:  # noqa: F811
    assert not [p for p in errors(check(conf)) if "transfer" in p.message]


def test_an_emergency_context_allowing_another_number_fails(conf: Path) -> None:  # noqa: F811
    edit(conf / "extensions.conf", "exten => 120,1,NoOp(Emergency transfer)",
         "exten => 112,1,NoOp(Emergency transfer)")
    problem = only_error(check(conf), "extensions.conf", r"transfer-emergency.*exactly")
    assert "also allows 112" in problem.message and "lacks 120" in problem.message


def test_a_free_number_in_a_transfer_context_fails(conf: Path) -> None:  # noqa: F811
    edit(conf / "extensions.conf", "exten => 09173211001,1,NoOp(Transferred to a department)",
         "exten => _0917X.,1,NoOp(Transferred to a department)")
    only_error(check(conf), "extensions.conf", r"transfer-department.*pattern")


def test_a_missing_queue_or_context_fails(conf: Path) -> None:  # noqa: F811
    edit(conf / "extensions.conf", "exten => hotline-help,1,Set(HOTLINE_QUEUE=${EXTEN})",
         "exten => hotline-nowhere,1,Set(HOTLINE_QUEUE=${EXTEN})")
    only_error(check(conf), "extensions.conf", r"hotline-nowhere: queues.conf has no")
    edit(conf / "extensions.conf", "[transfer-emergency]", "[transfer-elsewhere]")
    assert any(p.severity == "warning" and "[transfer-emergency] is missing" in p.message
               for p in check(conf))


def test_render_writes_the_departments_numbers_and_the_queues(session: Session,  # noqa: F811
                                                              tmp_path: Path) -> None:
    dept = session.scalars(select(Department).order_by(Department.id)).first()
    dept.contact_phone = "09178889999"
    session.commit()
    settings = settings_for()
    render(settings, session, tmp_path / "out")
    plan = Dialplan.from_conf(read_conf(tmp_path / "out" / "extensions.conf"))
    assert "09178889999" in plan.contexts["transfer-department"].extensions
    assert sorted(plan.contexts["transfer-emergency"].extensions) == ["110", "119", "120"]
    queues = RoutingTable.load(session).queues()
    assert set(plan.contexts["transfer-queue"].extensions) == set(queues)
    assert errors(check(tmp_path / "out", settings, queues)) == []
