"""Generate the prompt WAVs (see scripts/make-prompts)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from core.settings import PROJECT_ROOT
from ivr.prompts import TEXTS

SOUNDS = PROJECT_ROOT / "asterisk-conf" / "sounds"
SPEED = 175  # words per minute; espeak-ng's default 175, brisk but clear
# Leading and trailing silence cut (the caller hears nothing there, and the
# next prompt or the queue waits for it): below 0.5 % for 50 ms.
TRIM = ["silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%", "reverse"]


def make(target: Path = SOUNDS, *, missing_only: bool = False) -> list[Path]:
    """Speak every prompt into ``target`` (only those without a file there
    when ``missing_only``: sox dithers, so remade files differ in bits)."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"make-prompts: {tool} is missing (apt-get install {tool})")
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        todo = sorted((name, spec) for name, spec in TEXTS.items()
                      if not (missing_only and (target / f"{name}.wav").exists()))
        for i, (name, (voice, text)) in enumerate(todo, 1):
            raw = Path(tmp) / "raw.wav"
            out = target / f"{name}.wav"
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(SPEED), "-w", str(raw), text],
                           check=True)
            subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e",
                            "signed-integer", str(out), "gain", "-3", *TRIM], check=True)
            shown = out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out
            print(f"[{i}/{len(todo)}] {shown}", file=sys.stderr)
            written.append(out)
    return written


if __name__ == "__main__":
    make(missing_only="--missing" in sys.argv[1:])
