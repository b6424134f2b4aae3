"""The caller's first minute: seconds from the answer to the queue, per IVR path.

Usage: python bench/bench_first_minute.py [--markdown]

Runs tests/e2e/first_minute.py's paths on the built-in PBX with the
production dialplan and the committed prompts (their real lengths), in
simulated time: the figures depend on the prompts and the IVR, not on the
machine.  Each path once with the description asked only when the wait is
long (HOTLINE_DESCRIPTION_WHEN=waiting, the default) and once asked of
everyone (always).  The caller presses each key 0.3 s after a prompt that
takes it starts; a description is 5 s of speech, then the 3 s of silence
that ends it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.first_minute import ALWAYS_PATHS, PATHS, TARGETS, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the stand-in's abandoned calls are expected
    runs = {}
    for mode in ("waiting", "always"):
        with tempfile.TemporaryDirectory() as tmp:
            runs[mode] = measure(f"sqlite:///{tmp}/h.db", Path(tmp), PATHS + ALWAYS_PATHS,
                                 settings={"description_when": mode}).seconds
    rows = [(p.name, TARGETS[p.name], runs["waiting"][p.name], runs["always"][p.name])
            for p in PATHS + ALWAYS_PATHS]
    if args.markdown:
        print("| path | target s | waiting (default) s | always s |")
        print("| --- | ---: | ---: | ---: |")
        for name, target, waiting, always in rows:
            print(f"| {name} | {target:g} | {waiting:.1f} | {always:.1f} |")
    else:
        for name, target, waiting, always in rows:
            print(f"{name:48} target {target:5g}  waiting {waiting:5.1f}  always {always:5.1f}")


if __name__ == "__main__":
    main()
