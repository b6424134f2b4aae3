"""Shift changes and no-show checks, run once, by the backend in charge.

With several backends only the elected one runs :meth:`ShiftDuty.run`
(``hotline.app`` starts it when elected and stops it when not).  What it
does is kept in the database, not in its memory: early check-ins are rows
of ``queue_checkins``, and the change into each shift is a row of
``shift_changes`` (started, done, no-shows checked).  A backend that takes
over (the elected one was killed mid-change, or stopped) finds the change
of the running shift not done and runs it again; every step of it is
idempotent against what Asterisk has (an agent already added is not added
twice, one already paused for their shift's end is not paused again), so
the change is finished, not doubled.  It also takes off the queues the
agents its predecessor paused at their shift's end whose call is over by
now.

A change: announced once (``ShiftChanged``, to every instance's
consoles), the early check-ins due join the queues if rostered, and agents
no longer rostered leave (``Staffing.end_shift_for``).  ``no_show_minutes``
into the shift, rostered agents not on the queues are flagged, each once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import rota
from agents.alerts import raise_alert
from agents.models import Agent, HandoverNote, QueueCheckIn, ShiftChange, StaffingAlert
from agents.roster import check_out
from agents.staffing import Staffing, StaffingError
from core.live_events import ShiftChanged

log = logging.getLogger(__name__)

# A change caught up later than this after its shift began is not announced
# (a first start, or no backend up at the time: the news is old).
ANNOUNCE_WITHIN = timedelta(minutes=5)
# No-shows are not flagged later than this after they were due.
NO_SHOW_GRACE = timedelta(minutes=15)
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class _Done:
    changed: bool
    no_shows: bool


class ShiftDuty:
    def __init__(self, staffing: Staffing, owner: str) -> None:
        self.staffing = staffing
        self.deps = staffing.deps
        self.owner = owner
        self.changes = 0  # changes run (or finished) by this backend
        self._cursor: datetime | None = None

    async def run(self) -> None:
        """While in charge: settle what a predecessor left, then each change in turn."""
        st = self.staffing
        await st.ready.wait()  # who is on the queues: the model's first resync followed
        settled = False
        while True:
            try:
                if not settled:
                    await st.resync()
                    await st.settle_leavers()
                    settled = True
                await self._step()
            except Exception:  # noqa: BLE001 - database away: the row says what is left
                log.exception("shift change duty failed; trying again in %s s", RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)

    async def _step(self) -> None:
        st = self.staffing
        now = self.deps.clock.now()
        at = max(now, self._cursor) if self._cursor is not None else now
        slot = rota.shift_at(st.config, at.astimezone(self.deps.settings.tz))
        done = await self.deps.db.run(lambda s: _done(s, slot))
        if not done.changed:
            await self.change(slot, now)
            return
        no_show_at = st.aware(slot.start + timedelta(minutes=st.policy.no_show_minutes))
        if not done.no_shows and now < no_show_at + NO_SHOW_GRACE:
            if now < no_show_at:
                await self._sleep_until(no_show_at)
            else:
                await self.check_no_shows(slot)
            return
        end = st.aware(slot.end)
        await self._sleep_until(end)
        self._cursor = end

    async def _sleep_until(self, instant: datetime) -> None:
        await asyncio.sleep(max((instant - self.deps.clock.now()).total_seconds(), 0.001))

    async def change(self, slot: rota.ShiftSlot, now: datetime) -> None:
        """The change into ``slot``, or the rest of it after a takeover."""
        st, db = self.staffing, self.deps.db
        first = await db.run(lambda s: _begin(s, slot, self.owner, now))
        if first and now - st.aware(slot.start) < ANNOUNCE_WITHIN:
            before = rota.shift_at(st.config, slot.start - timedelta(seconds=1))
            notes = await db.run(lambda s: handover_notes(s, before))
            self.deps.bus.publish(ShiftChanged(team_index=slot.team_index,
                                               day=slot.day.isoformat(), shift=slot.index,
                                               handover=notes))
        elif not first:
            log.warning("the change into shift %s #%d was left unfinished; finishing it",
                        slot.day, slot.index + 1)
        on = await st.rostered((slot.day, slot.index))
        starts = st.aware(slot.start)  # (not the clock: a timer may fire a hair early)
        due = await db.run(lambda s: list(s.execute(
            select(QueueCheckIn.agent_id).where(QueueCheckIn.starts_at <= starts)).scalars()))
        for agent_id in due:
            if agent_id in on:
                try:
                    member = await st.member(agent_id)
                except StaffingError as exc:
                    log.warning("checked-in agent %s cannot join: %s", agent_id, exc)
                else:
                    await st.guarded(st.join(member), member, "join the queues")
            await db.run(lambda s, a=agent_id: check_out(s, a))
        await st.resync()  # adopts whoever is on the queues and not known here yet
        for agent_id, member in list(st.logged_in.items()):
            if agent_id not in on:
                await st.end_shift_for(agent_id, member)
        await st.settle_leavers()
        finished = self.deps.clock.now()
        await db.run(lambda s: _mark(s, slot, done_at=finished))
        self.changes += 1

    async def check_no_shows(self, slot: rota.ShiftSlot) -> None:
        st = self.staffing
        key = (slot.day, slot.index)
        # On Asterisk's queues counts too: another backend may have logged them in.
        present = set(st.logged_in) | st.states.on_queues()
        since = st.aware(slot.start)

        def flagged(s: Session) -> set[int]:  # by a predecessor, before it died
            return set(s.scalars(select(StaffingAlert.agent_id).where(
                StaffingAlert.kind == "no_show", StaffingAlert.raised_at >= since)))

        absent = sorted((await st.rostered(key)) - present - await self.deps.db.run(flagged))
        names = await self.deps.db.run(lambda s: {
            a.id: a.member_name for a in s.scalars(select(Agent).where(Agent.id.in_(absent)))})
        for agent_id in absent:
            await raise_alert(self.deps, "no_show", agent_id,
                              f"{names.get(agent_id, agent_id)} is rostered for the shift of "
                              f"{key[0]} #{key[1] + 1} and not on the queues "
                              f"{st.policy.no_show_minutes} minutes in")
        checked = self.deps.clock.now()
        await self.deps.db.run(lambda s: _mark(s, slot, no_shows_at=checked))


def _done(session: Session, slot: rota.ShiftSlot) -> _Done:
    row = session.get(ShiftChange, (slot.day, slot.index))
    return _Done(row is not None and row.done_at is not None,
                 row is not None and row.no_shows_at is not None)


def _begin(session: Session, slot: rota.ShiftSlot, owner: str, now: datetime) -> bool:
    """Record that the change into ``slot`` starts; False if one was started before."""
    if session.get(ShiftChange, (slot.day, slot.index)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ShiftChange(day=slot.day, shift_index=slot.index,
                                    team_index=slot.team_index, owner=owner, started_at=now))
    except IntegrityError:  # another backend, in charge a moment ago, was first
        return False
    return True


def _mark(session: Session, slot: rota.ShiftSlot, **values: datetime) -> None:
    row = session.get(ShiftChange, (slot.day, slot.index))
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)


def handover_notes(session: Session, shift: rota.ShiftSlot) -> list[dict[str, object]]:
    """Notes written during ``shift``, oldest first."""
    from core.accounts import User

    rows = session.execute(
        select(HandoverNote, User.display_name).join(User, HandoverNote.author_id == User.id)
        .where(HandoverNote.day == shift.day, HandoverNote.shift_index == shift.index)
        .order_by(HandoverNote.created_at, HandoverNote.id)).all()
    return [{"id": n.id, "author": name, "text": n.text, "created_at": n.created_at.isoformat(),
             "day": n.day.isoformat(), "shift": n.shift_index} for n, name in rows]
