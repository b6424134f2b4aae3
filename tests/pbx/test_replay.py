"""`hotline ami replay` on the real load trace agrees with Asterisk's queue_log."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter

from pbx import ami_protocol
from pbx.replay import replay_bytes
from pbx.state import PbxState


def queue_log_totals(path):
    entered, answered, abandoned = Counter(), {}, {}
    taken = Counter()
    for line in path.read_text().splitlines():
        parts = line.split("|")
        _t, callid, queue, agent, event = parts[:5]
        data = parts[5:]
        if event == "ENTERQUEUE":
            entered[queue] += 1
        elif event == "CONNECT":
            answered[callid] = int(data[0])
            taken[agent] += 1
        elif event == "ABANDON":
            abandoned[callid] = int(data[2])
    return entered, answered, abandoned, taken


def test_load_trace_totals_equal_queue_log(fixtures_dir):
    data = (fixtures_dir / "scenarios" / "load-120-calls.ami.raw").read_bytes()
    summary = replay_bytes(data, chunk=1000).summary()  # 1000: splits messages and characters
    entered, answered, abandoned, taken = queue_log_totals(
        fixtures_dir / "scenarios" / "load-120-calls.queue_log")
    q = summary["queues"]["hotline-help"]
    assert q["entered"] == entered["hotline-help"] == 120
    assert q["answered"] == len(answered) == 30
    assert q["abandoned"] == len(abandoned) == 90
    assert q["answer_wait_total"] == sum(answered.values())
    assert q["abandon_wait_total"] == sum(abandoned.values())
    assert q["abandon_wait_max"] == max(abandoned.values())
    assert summary["calls_taken"] == dict(taken)
    assert summary["events"]["VarSet"] == 3750


def test_duplicated_and_reordered_events_give_the_same_end_state(fixtures_dir):
    data = (fixtures_dir / "scenarios" / "three-calls.ami.raw").read_bytes()
    messages, _ = ami_protocol.parse(b"".join(ami_protocol.iter_transcript_received(data)))
    events = [m for m in messages if m.is_event]
    straight = PbxState()
    for m in events:
        straight.apply(m)
    # Duplicate every event, and shuffle across channels keeping each channel's order.
    rng = random.Random(7)
    by_channel: dict[str, list] = {}
    for m in events:
        by_channel.setdefault(m.get("Uniqueid") or m.get("Queue") or "", []).append(m)
    lanes = [list(v) for v in by_channel.values()]
    mixed = []
    while lanes:
        lane = rng.choice(lanes)
        m = lane.pop(0)
        mixed += [m, m]
        if not lane:
            lanes.remove(lane)
    shuffled = PbxState()
    for m in mixed:
        shuffled.apply(m)
    a, b = straight.summary(), shuffled.summary()
    a.pop("events"), b.pop("events")
    assert a == b
    assert a["queues"]["hotline-help"]["answered"] == 1
    assert a["queues"]["hotline-help"]["abandoned"] == 2


def test_replay_cli_prints_text_and_json(fixtures_dir):
    path = fixtures_dir / "scenarios" / "three-calls.ami.raw"
    out = subprocess.run([sys.executable, "-m", "hotline.cli", "ami", "replay", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "hotline-help: entered 3, answered 1" in out.stdout
    out = subprocess.run([sys.executable, "-m", "hotline.cli", "ami", "replay", "--json",
                          str(path)], capture_output=True, text=True, timeout=60)
    import json

    assert json.loads(out.stdout)["calls_taken"] == {"agent-1001": 1}
