"""Vosk recognition of PCM audio, whole or as it arrives.

Runs in whatever process calls it; the backend calls it only from worker
processes (see :mod:`speech.workers`) because decoding is CPU-bound.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from speech.models import ModelChoice, check_model_dir, model_sample_rate
from speech.transcript import Transcript, Word

# Audio is fed in fixed slices so identical samples always reach Kaldi in
# identical pieces (its endpointing, hence its segmentation, depends on them).
CHUNK_SECONDS = 0.5


@dataclass
class LoadedModel:
    """A Vosk model in memory with what transcripts need to say about it."""

    vosk_model: Any  # vosk.Model; typed loosely because vosk has no stubs
    language: str
    name: str
    sample_rate: int


def load_model(choice: ModelChoice) -> LoadedModel:
    """Load a model (seconds, and a few hundred MB); do it once per process."""
    import vosk  # imported here so importing this module stays cheap

    path = check_model_dir(choice.path)
    vosk.SetLogLevel(-1)  # Kaldi's per-utterance logging would flood our logs
    return LoadedModel(vosk.Model(str(path)), choice.language, choice.name,
                       model_sample_rate(path))


def _words(result: dict[str, Any], limit: float) -> list[Word]:
    words = []
    for item in result.get("result", []):
        # Frame rounding can put the last word's end a few ms past the audio.
        start = min(max(float(item["start"]), 0.0), limit)
        end = min(max(float(item["end"]), start), limit)
        words.append(Word(str(item["word"]), start, end, float(item.get("conf", 0.0))))
    return words


class StreamingTranscriber:
    """Recognise audio as a recording grows.

    Feed PCM16 LE chunks at ``sample_rate`` as they arrive; recognition keeps
    up with the audio, so :meth:`finish` only has the last fraction of a
    second left to decode and returns within a second or two of the caller
    stopping.  Not thread-safe; one instance per recording.
    """

    def __init__(self, model: LoadedModel, sample_rate: int | None = None) -> None:
        import vosk

        self._model = model
        self.sample_rate = sample_rate or model.sample_rate
        self._recognizer = vosk.KaldiRecognizer(model.vosk_model, self.sample_rate)
        self._recognizer.SetWords(True)
        self._words: list[Word] = []
        self._texts: list[str] = []
        self._bytes = 0
        self._odd = b""  # half a sample left over from the previous chunk
        self._spent = 0.0
        self._finished = False

    @property
    def seconds_audio(self) -> float:
        return self._bytes / 2 / self.sample_rate

    def feed(self, pcm16: bytes) -> list[Word]:
        """Add audio; return the words that became final with it (often none)."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        data = self._odd + pcm16
        cut = len(data) & ~1
        data, self._odd = data[:cut], data[cut:]
        if not data:
            return []
        started = time.perf_counter()
        self._bytes += len(data)
        new: list[Word] = []
        if self._recognizer.AcceptWaveform(data):
            new = self._segment(json.loads(self._recognizer.Result()))
        self._spent += time.perf_counter() - started
        return new

    def partial(self) -> str:
        """The text so far of the segment still being decoded (may change)."""
        return str(json.loads(self._recognizer.PartialResult()).get("partial", ""))

    def finish(self) -> Transcript:
        """Decode what is left and return the whole transcript."""
        if not self._finished:
            started = time.perf_counter()
            self._segment(json.loads(self._recognizer.FinalResult()))
            self._spent += time.perf_counter() - started
            self._finished = True
        words = sorted(self._words, key=lambda w: (w.start, w.end))
        return Transcript(text=" ".join(self._texts), words=words,
                          language=self._model.language, model_name=self._model.name,
                          seconds_audio=self.seconds_audio, seconds_spent=self._spent)

    def _segment(self, result: dict[str, Any]) -> list[Word]:
        words = _words(result, self.seconds_audio)
        text = str(result.get("text", "")).strip()
        if text:
            self._texts.append(text)
        self._words.extend(words)
        return words


def transcribe_pcm(model: LoadedModel, pcm16: bytes, sample_rate: int | None = None
                   ) -> Transcript:
    """Transcribe mono PCM16 LE audio at ``sample_rate`` (default: the model's).

    Deterministic: identical samples give an identical transcript (apart
    from ``seconds_spent``).  Silence gives empty text and no words.
    """
    stream = StreamingTranscriber(model, sample_rate)
    step = max(2, int(stream.sample_rate * CHUNK_SECONDS) * 2)
    for offset in range(0, len(pcm16), step):
        stream.feed(pcm16[offset:offset + step])
    return stream.finish()
