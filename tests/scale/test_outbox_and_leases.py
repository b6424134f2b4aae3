"""The outbox, leases on shared work, the election and SQLite's single backend,
on both databases (real PostgreSQL sessions for the advisory lock)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from calls import records
from calls.followups import ENDED, CallFollowUps
from core import outbox
from core.clock import Clock
from core.db import Database
from core.election import Election
from core.leases import LEASE, LeaseKeeper
from hotline.app import Backend, StartupError
from hotline.migrate import upgrade
from speech import job_store, recording_outbox
from speech.recording_outbox import CALL_RECORDING
from speech.tables import QUEUED, RUNNING, TranscriptionJob
from tests.helpers import prepare_database, record_answer, settings_for_test
from worksheets import callbacks
from worksheets.models import CallbackAttempt

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.close()


def items(db: Database) -> list[outbox.OutboxItem]:
    return db.call(lambda s: list(s.scalars(select(outbox.OutboxItem).order_by(
        outbox.OutboxItem.id))))


def ended(s: Any, uniqueid: str, now: datetime) -> None:
    """The call's end and its follow-ups, as the tracker records them."""
    call = records.mark_ended(s, uniqueid, now=now)
    if call is not None:
        recording_outbox.follow_calls(CallFollowUps()).run(ENDED, s, call, now)


def test_given_an_answered_call_when_it_ends_twice_then_one_outbox_item_in_its_transaction(
        db: Database) -> None:
    def answered_then_ended(s: Any, uniqueid: str) -> None:
        records.start_call(s, uniqueid=uniqueid, now=NOW, caller_number="13800138000")
        records.mark_queued(s, uniqueid, queue="hotline-help", now=NOW)
        record_answer(s, uniqueid, member_name="agent-1001", agent_id=None,
                      hold_seconds=3, now=NOW)
        ended(s, uniqueid, NOW + timedelta(minutes=2))

    db.call(answered_then_ended, "1764468000.1")
    db.call(lambda s: ended(s, "1764468000.1", NOW + timedelta(minutes=3)))
    # A call that ends in the IVR starts no transcription.
    db.call(lambda s: records.start_call(s, uniqueid="1764468000.2", now=NOW))
    db.call(lambda s: ended(s, "1764468000.2", NOW))

    # Rolled back with its call: no item without the change that caused it.
    def fails_after(s: Any) -> None:
        answered_then_ended(s, "1764468000.3")
        raise RuntimeError("the database went away before the commit")

    with pytest.raises(RuntimeError):
        db.call(fails_after)
    [item] = items(db)
    assert (item.kind, item.key, item.status) == (CALL_RECORDING,
                                                  "call.recording:1764468000.1", outbox.PENDING)
    assert item.payload["uniqueid"] == "1764468000.1"


def test_given_two_backends_when_they_claim_then_no_item_twice_and_a_dead_ones_are_taken_over(
        db: Database) -> None:
    for n in range(6):
        db.call(lambda s, n=n: outbox.add(s, CALL_RECORDING, f"k{n}", {"n": n}, NOW))
    assert not db.call(lambda s: outbox.add(s, CALL_RECORDING, "k0", {}, NOW))

    got: dict[str, list[int]] = {}

    def claim(owner: str) -> None:  # concurrently, in two threads (SKIP LOCKED)
        got.setdefault(owner, []).extend(c.id for c in db.call(lambda s: outbox.claim(
            s, [CALL_RECORDING], owner, NOW, 4)))

    threads = [threading.Thread(target=claim, args=(o,)) for o in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claim("b")  # (on SQLite the loser of a race gets nothing, and asks again)
    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == [i.id for i in items(db)]
    # "a" dies holding its items; while its lease holds nobody takes them...
    assert db.call(lambda s: outbox.claim(s, [CALL_RECORDING], "c", NOW, 10)) == []
    later = NOW + LEASE + timedelta(seconds=1)
    taken = db.call(lambda s: outbox.claim(s, [CALL_RECORDING], "c", later, 10))
    assert sorted(c.id for c in taken) == sorted(got["a"] + got["b"])
    assert all(c.attempts == 2 for c in taken)
    # ...and a late finish by a dead owner changes nothing.
    dead = "a" if got["a"] else "b"
    db.call(lambda s: outbox.finish(s, got[dead][0], dead, later, None))
    assert {i.status for i in items(db)} == {outbox.PENDING}
    for c in taken:
        db.call(lambda s, c=c: outbox.finish(s, c.id, "c", later, None))
    assert {i.status for i in items(db)} == {outbox.DONE}


async def test_given_a_failing_handler_when_the_worker_runs_then_retried_later_and_kept(
        db: Database) -> None:
    clock = Clock.for_running_loop(NOW)
    db.call(lambda s: outbox.add(s, CALL_RECORDING, "once", {"x": 1}, clock.now()))
    db.call(lambda s: outbox.add(s, CALL_RECORDING, "flaky", {"x": 2}, clock.now()))
    seen: list[int] = []
    done = asyncio.Event()

    async def handler(payload: dict[str, Any]) -> None:
        seen.append(payload["x"])
        if payload["x"] == 2 and seen.count(2) == 1:
            raise OSError("recordings mount not there yet")
        if seen.count(2) == 2:
            done.set()

    worker = outbox.OutboxWorker(db, clock, "me", poll_seconds=0.05)
    worker.handle(CALL_RECORDING, handler)
    worker.start()
    try:
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.sleep(0.2)
    finally:
        await worker.close()
    assert sorted(seen) == [1, 2, 2]
    found = {i.key: i for i in items(db)}
    assert found["once"].status == found["flaky"].status == outbox.DONE
    assert found["flaky"].attempts == 2 and found["flaky"].owner is None


def test_given_a_running_job_when_its_lease_runs_out_then_another_backend_takes_it_over(
        db: Database) -> None:
    job_id, _ = db.call(lambda s: job_store.enqueue(s, key="r1.wav", path="/r/r1.wav",
                                                    kind="call", uniqueid="1.1", language=None,
                                                    now=NOW))
    [mine] = db.call(lambda s: job_store.claim_next(s, NOW, 5, "a", NOW + LEASE))
    assert mine.id == job_id
    # Another backend, while "a" renews its lease: nothing to take.
    keeper = LeaseKeeper(db, Clock(asyncio.new_event_loop(), NOW + LEASE / 2), "a")
    keeper.keep(TranscriptionJob)
    db.call(keeper.renew)
    assert db.call(lambda s: job_store.claim_next(s, NOW + LEASE, 5, "b", NOW)) == []
    assert db.call(lambda s: job_store.requeue_unfinished(s, NOW + LEASE, "b")) == 0
    # "a" stops renewing (dead): "b" takes the job over, and "a"'s late result is refused.
    late = NOW + 2 * LEASE
    [taken] = db.call(lambda s: job_store.claim_next(s, late, 5, "b", late + LEASE))
    assert (taken.id, taken.attempts) == (job_id, 2) and taken.claim != mine.claim
    assert not db.call(lambda s: job_store.fail(s, job_id, mine.claim, "late", now=late))
    # Its own running jobs are never "taken over" by itself.
    assert db.call(lambda s: job_store.claim_next(s, late + 3 * LEASE, 5, "b", late)) == []
    job = db.call(lambda s: s.get(TranscriptionJob, job_id))
    assert (job.status, job.owner) == (RUNNING, "b")
    assert db.call(lambda s: job_store.release(s, job_id, taken.claim, refund=True))
    assert db.call(lambda s: s.get(TranscriptionJob, job_id)).status == QUEUED


def test_given_callback_attempts_of_several_backends_then_only_dead_ones_are_stale(
        database_url: str, tmp_path: Any) -> None:
    prepare_database(database_url, NOW)
    db = Database(database_url)
    try:
        def attempts(s: Any) -> list[int]:
            from agents.models import Agent
            from worksheets.models import CallbackTask

            agent = s.scalars(select(Agent).order_by(Agent.id)).first()
            ids = []
            for n, (owner, lease, started) in enumerate([
                    ("live", NOW + LEASE, NOW), ("dead", NOW - timedelta(seconds=1), NOW),
                    (None, None, NOW), (None, None, NOW - timedelta(hours=3))]):
                call = records.start_call(s, uniqueid=f"1764468000.9{n}", now=NOW,
                                          caller_number="13800138000")
                task = CallbackTask(call_id=call.id, caller_number="13800138000", created_at=NOW)
                s.add(task)
                s.flush()
                attempt = CallbackAttempt(task_id=task.id, agent_id=agent.id, started_at=started,
                                          owner=owner, lease_until=lease)
                s.add(attempt)
                s.flush()
                ids.append(attempt.id)
            return ids

        live, dead, legacy_recent, legacy_old = db.call(attempts)
        shared = db.call(lambda s: callbacks.stale_attempt_ids(
            s, NOW, "me", alone=False, max_call=timedelta(hours=2)))
        assert sorted(shared) == sorted([dead, legacy_old])
        alone = db.call(lambda s: callbacks.stale_attempt_ids(
            s, NOW, "me", alone=True, max_call=timedelta(hours=2)))
        assert sorted(alone) == sorted([live, dead, legacy_recent, legacy_old])
    finally:
        db.close()


async def test_given_sqlite_when_a_second_backend_starts_then_it_is_refused_clearly(
        tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    first = Backend(settings_for_test(url, tmp_path))
    await first.start()
    try:
        assert first.election is not None and first.election.elected
        with pytest.raises(StartupError, match="in use by backend pid .*SQLite serves one "
                                               "backend only"):
            await Backend(settings_for_test(url, tmp_path)).start()
    finally:
        await first.stop()
    again = Backend(settings_for_test(url, tmp_path))  # the lock went with the first
    await again.start()
    await again.stop()


async def test_given_two_backends_on_postgresql_then_one_is_elected_and_the_other_takes_over(
        tmp_path: Any) -> None:
    from tests.conftest import make_database_url

    for url in make_database_url("postgresql", tmp_path):
        db = Database(url)
        upgrade(db.engine)
        started: list[str] = []
        elections = [Election(db, name, retry_seconds=0.05) for name in ("a", "b")]
        for e in elections:
            async def begin(name: str = e.owner) -> None:
                started.append(name)  # noqa: B023 - one list for all

            async def end() -> None:
                pass

            e.duty("test duty", begin, end)
        try:
            for e in elections:
                await e.start()
            await asyncio.sleep(0.3)
            assert [e.elected for e in elections].count(True) == 1 and len(started) == 1
            leader = next(e for e in elections if e.elected)
            other = next(e for e in elections if not e.elected)
            await leader.close()  # its session, and with it the advisory lock, is gone
            await asyncio.wait_for(other.wait_elected(), 10)
            assert started == [leader.owner, other.owner]
        finally:
            for e in elections:
                await e.close()
            db.close()


def test_given_a_prefix_and_a_time_zone_then_orders_are_numbered_by_them(db: Database) -> None:
    from zoneinfo import ZoneInfo

    from calls.followups import CallFollowUps
    from worksheets.service import follow_calls

    def answered(s: Any) -> str:
        records.start_call(s, uniqueid="1764468000.71", now=NOW)
        numbered = follow_calls(CallFollowUps(), tz=ZoneInfo("America/New_York"), prefix="XA")
        order = record_answer(s, "1764468000.71", member_name="agent-1001", agent_id=None,
                              hold_seconds=1, now=NOW, follow_ups=numbered)
        return order.number

    # 02:00 UTC on 1 December is still 30 November in New York.
    assert db.call(answered) == "XA20261130-0001"
