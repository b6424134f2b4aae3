#!/usr/bin/env python3
"""Put each of issue 16's seven bugs back, one at a time, into a scratch copy
of this tree and run the tests that must catch it (tests/MUTATION.md).

    .venv/bin/python scripts/seeded_bugs.py [N ...]

Prints, per bug, the pytest summary and the tests that failed; a bug that
fails no test is a hole in the suite, and the exit status is then 1.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent
ROLE_TABLE = ["tests/console/test_role_table.py"]
BYTES = ["tests/unit/test_protocol_bytes.py"]
QUEUE_TIMES = ["tests/pbxsim/test_queue_times.py", "tests/pbxsim/test_fidelity.py"]

# (bug, file, the correct text, the bug's text, tests that must fail)
BUGS = [
    ("admin no longer passes routes that list other roles", "console/auth.py",
     'return not spec.roles or role in spec.roles or role == "admin"',
     "return not spec.roles or role in spec.roles", ROLE_TABLE),
    ("AMI header values .strip()ped whole", "pbx/ami_protocol.py",
     'headers.append((key.strip(), value[1:] if value.startswith(" ") else value))',
     "headers.append((key.strip(), value.strip()))", BYTES),
    ("single_line stops removing NUL", "pbx/agi_protocol.py",
     '.replace("\\n", " ").replace("\\x00", "")', '.replace("\\n", " ")', BYTES),
    ("stand-in AgentComplete TalkTime one second off", "pbxsim/queue_bridge.py",
     '("TalkTime", str(talk)),', '("TalkTime", str(talk + 1)),', QUEUE_TIMES),
    ("stand-in AgentConnect HoldTime one second off", "pbxsim/queue_bridge.py",
     '("HoldTime", str(hold)),\n            ("RingTime"',
     '("HoldTime", str(hold + 1)),\n            ("RingTime"', QUEUE_TIMES),
    ("AMI link goes on after an oversized or garbage stream", "pbx/ami_session.py",
     "except ami_protocol.AmiProtocolError as exc:\n"
     "            self._unusable(str(exc))\n            return",
     'except ami_protocol.AmiProtocolError:\n            self.buffer = b""\n            return',
     ["tests/pbx/test_ami_bad_input.py", "tests/faults/test_ami_faults.py"]),
    ("read_json accepts a body that is not an object", "console/routing_table.py",
     "    if not isinstance(data, dict):\n"
     '        raise bad_request("bad_json", "the body must be a JSON object")\n',
     "", ["tests/console/test_json_bodies.py"]),
]


def main(only: list[str]) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="seeded-bugs-"))
    tree = scratch / "tree"
    missed = 0
    try:
        for n, (name, path, good, bad, tests) in enumerate(BUGS, 1):
            if only and str(n) not in only:
                continue
            if tree.exists():
                shutil.rmtree(tree)
            shutil.copytree(SRC, tree, ignore=shutil.ignore_patterns(
                ".venv", "mutants", "var", ".git", "__pycache__"))
            source = tree / path
            text = source.read_text()
            assert text.count(good) == 1, f"{name}: the correct text is no longer in {path}"
            source.write_text(text.replace(good, bad))
            run = subprocess.run(
                [str(SRC / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 *tests], cwd=tree, capture_output=True, text=True)
            lines = run.stdout.strip().splitlines()
            failed = [line.split(" ")[1] for line in lines if line.startswith("FAILED")]
            print(f"{n}. {name} ({path}): exit {run.returncode}; {lines[-1] if lines else ''}")
            for test in failed:
                print("   caught by", test)
            if not failed:
                missed += 1
                print("   NOT CAUGHT")
            sys.stdout.flush()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
