"""Helpers shared by the integration tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from calls import records
from calls.followups import ABANDONED, ANSWERED, CallFollowUps
from core import accounts
from core.clock import Clock
from core.db import Database
from core.settings import PROJECT_ROOT, AmiTarget, Listen, Settings, load_settings
from hotline.app import Backend
from hotline.demo import free_port
from hotline.migrate import upgrade
from hotline.seed import seed_demo_city
from pbxsim import PbxSim
from worksheets.models import CallbackTask, WorkOrder
from worksheets.service import follow_calls

PASSWORD = "correct-horse-1"
# What the backend runs after a call's record changes (worksheets' part: a
# draft order when answered, a callback task when abandoned).
FOLLOW_UPS = follow_calls(CallFollowUps())


def settings_for_test(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    settings = load_settings(env={"HOTLINE_DATABASE_URL": database_url,
                                  "HOTLINE_VAR_DIR": str(tmp_path / "var")})
    # Wrap-up held until the order is submitted is off unless a test asks for
    # it: most tests place call after call to one agent without submitting.
    overrides = {"wrapup_max_seconds": 0, **overrides}
    return replace(settings, agi_listen=Listen("127.0.0.1", 0),
                   http_listen=Listen("127.0.0.1", 0), **overrides)  # type: ignore[arg-type]


def prepare_database(url: str, now: datetime | None = None) -> dict[str, int]:
    """Migrate, seed the demo city, and create one user per role (password PASSWORD).

    Returns {username: user id}.
    """
    now = now or datetime.now(UTC)
    db = Database(url)
    try:
        upgrade(db.engine)
        db.call(lambda s: seed_demo_city(s, now))

        def users(s):  # type: ignore[no-untyped-def]
            from sqlalchemy import select

            from agents.models import Agent
            from worksheets.models import Department

            out = {}
            first_agent = s.scalars(select(Agent).order_by(Agent.number)).first()
            dept = s.scalars(select(Department).order_by(Department.id)).first()
            for name, role, extra in [
                ("admin", "admin", {}), ("sup", "supervisor", {}),
                ("dept", "department", {"department_id": dept.id}),
                ("agent", "agent", {"agent_id": first_agent.id}),
            ]:
                out[name] = accounts.create_user(s, username=name, password=PASSWORD, role=role,
                                                 now=now, **extra).id
            return out

        return db.call(users)
    finally:
        db.close()


async def start_stack(url: str, tmp_path: Path, start: datetime, *, sounds: bool = False,
                      settings_overrides: dict[str, object] | None = None,
                      **backend_options: object) -> tuple[PbxSim, Backend]:
    """The built-in PBX and the backend over real sockets, on a clock starting
    at ``start`` (the running loop's: virtual time under run_simulated).

    ``sounds``: prompts last as long as the committed WAVs (else 2 s each)."""
    clock = Clock.for_running_loop(start)
    agi_port = free_port("127.0.0.1")
    sim = PbxSim(PROJECT_ROOT / "asterisk-conf", clock=clock,
                 globals_override={"FASTAGI": f"agi://127.0.0.1:{agi_port}"},
                 ami_secret_override={"hotline": "test-secret"},
                 recordings_dir=tmp_path / "recordings", queue_log_path=tmp_path / "queue_log",
                 sounds_dir=PROJECT_ROOT / "asterisk-conf" / "sounds" if sounds else None)
    await sim.start()
    settings = replace(settings_for_test(url, tmp_path),
                       ami=AmiTarget("127.0.0.1", sim.ami_port, "hotline", "test-secret"),
                       agi_listen=Listen("127.0.0.1", agi_port),
                       **(settings_overrides or {}))  # type: ignore[arg-type]
    backend = Backend(settings, clock=clock, **backend_options)  # type: ignore[arg-type]
    await backend.start()
    assert backend.deps is not None and backend.deps.ami is not None
    await backend.deps.ami.wait_ready(10)
    return sim, backend


def reply_and_accept(session, order_id, *, department_id, text, user_id, now):  # type: ignore[no-untyped-def]
    """The department answers and the supervisor's review accepts (统一答复):
    the order is closed, as one department reply closed it before the review."""
    from worksheets import lifecycle, review

    lifecycle.reply(session, order_id, department_id=department_id, text=text, user_id=user_id,
                    now=now)
    return review.accept(session, order_id, now=now, user_id=None)


def record_answer(session: Session, uniqueid: str, *, member_name: str, agent_id: int | None,
                  hold_seconds: int, now: datetime,
                  follow_ups: CallFollowUps = FOLLOW_UPS) -> WorkOrder:
    """The answer as the call tracker records it (calls.records.answer_call and
    the ANSWERED follow-ups, in one transaction): the call's draft order."""
    call = records.answer_call(session, uniqueid, member_name=member_name, agent_id=agent_id,
                               hold_seconds=hold_seconds, now=now)
    follow_ups.run(ANSWERED, session, call, now)
    order = session.scalar(select(WorkOrder).where(WorkOrder.call_id == call.id))
    assert order is not None
    return order


def record_abandon(session: Session, uniqueid: str, *, hold_seconds: int,
                   now: datetime) -> CallbackTask:
    """The abandon as the call tracker records it (calls.records.abandon_call and
    the ABANDONED follow-ups): the call's callback task."""
    call = records.abandon_call(session, uniqueid, hold_seconds=hold_seconds, now=now)
    FOLLOW_UPS.run(ABANDONED, session, call, now)
    task = session.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id))
    assert task is not None
    return task
