"""`hotline ami replay FILE`: run a captured AMI stream through the parser
and the state machine, and report what it says.

Accepts the fixture format (server bytes with the client's actions in
``>>>> SENT >>>>`` blocks) or a plain capture of what Asterisk sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pbx import ami_protocol
from pbx.state import PbxState


def replay_bytes(data: bytes, chunk: int = 65536) -> PbxState:
    state = PbxState()
    buffer = b""
    for part in ami_protocol.iter_transcript_received(data):
        for i in range(0, len(part), chunk):
            buffer += part[i:i + chunk]
            messages, buffer = ami_protocol.parse(buffer)
            for message in messages:
                state.apply(message)
    return state


def replay_file(path: Path) -> dict[str, Any]:
    return replay_bytes(path.read_bytes()).summary()


def format_text(summary: dict[str, Any]) -> str:
    lines = ["events by type:"]
    for name, count in sorted(summary["events"].items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:>7}  {name}")
    lines.append("queues:")
    for name, q in summary["queues"].items():
        lines.append(
            f"  {name}: entered {q['entered']}, answered {q['answered']} "
            f"(avg wait {q['answer_wait_avg']}s, max {q['answer_wait_max']}s), "
            f"abandoned {q['abandoned']} (avg wait {q['abandon_wait_avg']}s, "
            f"max {q['abandon_wait_max']}s), still waiting {q['waiting']}")
    lines.append("calls taken per member:")
    for member, count in summary["calls_taken"].items():
        lines.append(f"  {member}: {count}")
    return "\n".join(lines)


def run(path: str, json_output: bool) -> int:
    summary = replay_file(Path(path))
    print(json.dumps(summary, ensure_ascii=False, indent=2) if json_output
          else format_text(summary))
    return 0
