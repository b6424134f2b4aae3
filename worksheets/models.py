"""Tables owned by worksheets: work orders, departments and callback tasks
(call records and their timelines are calls.models)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class Department(Base):
    """A department (承办单位) that receives work orders."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    legacy_number: Mapped[str | None] = mapped_column(String(32), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who the hotline calls about the department's orders (联系人), and its
    # leader: one of its department logins (the others are its staffers).
    # ``contact_phone`` is also where an agent transfers a caller who must
    # speak to the department itself ([transfer-department], digits only).
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    leader_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True), default=None)


class WorkOrder(Base):
    """A work order (工单).

    status: draft (being written by the agent on the call), dispatched (sent
    to a department, deadline running), accepted (the department signed for
    it, 签收), returned (the department sent it back to the hotline, 退回,
    to be dispatched again), answered (the lead department answered; a
    supervisor reviews it, 统一答复), closed (the hotline accepted the answer,
    办结; a consultation answered on the call is closed at once), merged
    (并案 into another order, closed with it).  After
    closing, an agent calls the citizen back (回访) and records satisfaction;
    see worksheets/lifecycle.py.
    """

    __tablename__ = "work_orders"
    # the reports' day roll-ups and the overdue counts (migration 0014)
    __table_args__ = (Index("ix_work_orders_status_due_at", "status", "due_at", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True, default=None)
    caller_number: Mapped[str] = mapped_column(String(255), default="")
    caller_name: Mapped[str] = mapped_column(String(255), default="")
    category: Mapped[str] = mapped_column(String(16))
    complexity: Mapped[str | None] = mapped_column(String(16), default=None)  # help only
    status: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str | None] = mapped_column(String(32), default=None)
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    answered_on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    deadline_days: Mapped[int | None] = mapped_column(Integer, default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)  # local date, end of day
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    satisfaction: Mapped[str | None] = mapped_column(String(24), default=None)
    # A call that needed no order (status ``no_order``): prank, silence,
    # wrong_number, special_line (worksheets.no_order).
    no_order_reason: Mapped[str | None] = mapped_column(String(24), default=None)
    # A follow-up call about an earlier order (the caller chose "add to it").
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reply: Mapped[str] = mapped_column(Text, default="")  # the department's answer (办结回复)
    returns: Mapped[int] = mapped_column(Integer, default=0)  # times sent back (退回)
    # A department's pending request to extend (complex help only, once).
    extension_days: Mapped[int | None] = mapped_column(Integer, default=None)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)  # 回访
    visit_result: Mapped[str | None] = mapped_column(String(24), default=None)
    # The dispatch the deadline runs from (first dispatch, redispatch or
    # reopen), so the deadline can be counted again when a year is loaded.
    deadline_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The deadline was counted over a year without a loaded arrangement
    # (Monday-Friday assumed): provisional until that year is loaded.
    deadline_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    # The caller's answer to the post-call survey: the hotline's own service
    # rating.  ``satisfaction`` is the 回访 verdict only (the department's).
    survey_answer: Mapped[str | None] = mapped_column(String(24), default=None)
    # 回访 calls: citizen not reached so far, the last try, and a call under
    # way (set while the PBX places it; one left by a stopped backend is lost).
    visit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    visit_last_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    visit_calling_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The 回访 call under way belongs to one backend (core.leases) until its
    # lease runs out; the agent it rings and, once they answer, their channel,
    # so that another backend can follow the call to its end.
    visit_owner: Mapped[str | None] = mapped_column(String(80), default=None)
    visit_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    visit_agent_id: Mapped[int | None] = mapped_column(Integer, default=None)
    visit_uniqueid: Mapped[str | None] = mapped_column(String(40), default=None)
    # The Originate's ActionID, stored before it is sent: another backend that
    # hears its OriginateResponse records the agent's channel (migration 0024).
    visit_action_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    # The department was warned that 80 % of its time is used (once per dispatch).
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The latest 催办 (a supervisor urging the department), shown on its list.
    urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    urge_note: Mapped[str] = mapped_column(Text, default="")
    # The knowledge-base article the agent answered from, and its version then.
    kb_article_id: Mapped[int | None] = mapped_column(ForeignKey("kb_articles.id"),
                                                      default=None)
    kb_article_version: Mapped[int | None] = mapped_column(Integer, default=None)
    # 统一答复: when the lead department answered (on-time counts this); the
    # order closes (办结) when a supervisor accepts the answer (closed_at).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # 并案: the order this duplicate was merged into (its caller is kept there).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"),
                                                       default=None, index=True)
    # The special line (12388 ...) the caller was referred or transferred to.
    referral_line: Mapped[str | None] = mapped_column(String(16), default=None)
    referral_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OrderEvent(Base):
    """What happened to a work order after the call, and who did it."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # The department holding the order when it happened (who returned it...).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"),
                                                      default=None)
    detail: Mapped[str] = mapped_column(Text, default="")


class CallbackTask(Base):
    """A caller to call back: left when a call is abandoned in the queue,
    times out, or the caller takes the IVR's callback offer.

    ``status``: open (waiting for an agent) -> calling (an agent's attempt is
    under way) -> done (the citizen was reached) | open again (not reached;
    tried ``attempts`` times) | failed (not reached after the last attempt,
    or closed by hand).
    """

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), unique=True)
    caller_number: Mapped[str] = mapped_column(String(255))
    queue: Mapped[str | None] = mapped_column(String(64), default=None)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # citizen dialled, not reached
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    last_result: Mapped[str | None] = mapped_column(String(24), default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class CallbackAttempt(Base):
    """One click-to-call: the agent's phone is rung (AMI Originate), then the
    citizen is dialled from ``[callback-out]``.

    ``result``: calling, then reached | no_answer | busy | unreachable (the
    citizen) | agent_no_answer (the agent's phone was not answered) |
    agent_hangup (the agent hung up before the citizen answered, or the trunk
    call could not be made) | lost (the PBX never said how it ended) |
    pbx_error (the PBX refused the Originate); the last four do not count as
    attempts on the citizen.
    """

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    # The Originate's ActionID, stored before it is sent (as visit_action_id).
    action_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    uniqueid: Mapped[str | None] = mapped_column(String(64), default=None)  # agent's channel
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    result: Mapped[str] = mapped_column(String(24), default="calling")
    # The backend placing the call and until when (core.leases): an attempt
    # whose backend died is closed as lost once its lease runs out.
    owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class CalendarYear(Base):
    """A year's official holiday arrangement loaded by an admin (the shipped
    holidays_cn.json years apply when no row replaces them).

    ``arrangement`` is the year's entry in the holidays_cn.json format, as
    validated; ``version`` is the highest so far plus one at each load, so
    the sum over the rows rises with every committed load and each backend
    instance sees a change with one cheap query (worksheets/calendar_store.py).
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    arrangement: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, index=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str] = mapped_column(String(80), default="")
