"""Vosk recognition of PCM audio, whole or as it arrives.

Runs in whatever process calls it; the backend calls it only from worker
processes (see :mod:`speech.workers`) because decoding is CPU-bound.
"""

from __future__ import annotations

import json
import time
from array import array
from dataclasses import dataclass
from typing import Any

from speech.models import ModelChoice, check_model_dir, model_sample_rate
from speech.transcript import Transcript, Word

# Audio is fed in fixed slices so identical samples always reach Kaldi in
# identical pieces (its endpointing, hence its segmentation, depends on them).
CHUNK_SECONDS = 0.25
# An utterance is closed after this much quiet audio (peaks below QUIET_PEAK),
# sooner than Kaldi's own endpointer (1-2 s of silence with this model), so a
# description's last words are final about a second after the caller stops.
CLOSE_AFTER_QUIET = 0.7
QUIET_PEAK = 500  # of 32767: about -36 dBFS, well below speech on a phone line
_QUIET_BLOCK = 0.02  # seconds; the resolution of the quiet measurement


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

    def __init__(self, model: LoadedModel, sample_rate: int | None = None,
                 close_after_quiet: float | None = CLOSE_AFTER_QUIET) -> None:
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
        # Digital silence (all-zero samples) that arrives while no utterance is
        # open is held back and fed only if sound follows, so the calls Kaldi
        # sees, and hence the words and their times, are the same; a recording
        # that is silent to the end (the PBX's own silence) then costs nothing.
        self._idle = True
        self._held: list[int] = []
        self._close_after = close_after_quiet
        self._quiet = 0.0  # seconds of quiet at the end of what was fed

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
        self._bytes += len(data)
        if self._idle and data == bytes(len(data)):
            self._held.append(len(data))
            return []
        new: list[Word] = []
        for size in self._held:
            new.extend(self._accept(bytes(size)))
        self._held.clear()
        new.extend(self._accept(data))
        return new

    def _accept(self, data: bytes) -> list[Word]:
        started = time.perf_counter()
        new: list[Word] = []
        # True: Kaldi saw the end of an utterance, and the next one starts afresh.
        self._idle = bool(self._recognizer.AcceptWaveform(data))
        if self._idle:
            new = self._segment(json.loads(self._recognizer.Result()))
        elif self._close_after is not None and self._quiet_after(data) >= self._close_after:
            # FinalResult closes the utterance; Vosk starts the next one afresh
            # on the next audio, keeping word times relative to the start.
            new = self._segment(json.loads(self._recognizer.FinalResult()))
            self._idle = True
        self._spent += time.perf_counter() - started
        return new

    def _quiet_after(self, data: bytes) -> float:
        """Seconds of quiet at the end of the audio fed so far, ``data`` included."""
        samples = array("h")
        samples.frombytes(data)
        block = max(1, int(self.sample_rate * _QUIET_BLOCK))
        end = len(samples)
        while end > 0:
            piece = samples[max(0, end - block):end]
            if max(piece) > QUIET_PEAK or min(piece) < -QUIET_PEAK:
                break
            end -= block
        tail = (len(samples) - max(end, 0)) / self.sample_rate
        self._quiet = self._quiet + tail if end <= 0 else tail
        return self._quiet

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
        return self.snapshot()

    def snapshot(self) -> Transcript:
        """The transcript of the utterances finished so far (no decoding)."""
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


class LiveTranscriber:
    """A recording at its own sample rate, transcribed while it is written.

    Resamples as the audio arrives and feeds the recogniser the same
    ``CHUNK_SECONDS`` slices :func:`transcribe_pcm` would, so the finished
    transcript is the one batch transcription gives for the final file.
    """

    def __init__(self, model: LoadedModel, source_rate: int) -> None:
        from speech.resample import StreamResampler

        self._resampler = StreamResampler(source_rate, model.sample_rate)
        self._stream = StreamingTranscriber(model)
        self._step = max(2, int(model.sample_rate * CHUNK_SECONDS) * 2)
        self._pending = bytearray()

    def feed(self, pcm16: bytes) -> Transcript | None:
        """Add audio at the source rate; the transcript so far if it gained words, else None."""
        self._pending += self._resampler.feed(pcm16)
        gained = False
        while len(self._pending) >= self._step:
            gained |= bool(self._stream.feed(bytes(self._pending[:self._step])))
            del self._pending[:self._step]
        return self._stream.snapshot() if gained else None

    def finish(self) -> Transcript:
        self._pending += self._resampler.finish()
        for offset in range(0, len(self._pending), self._step):
            self._stream.feed(bytes(self._pending[offset:offset + self._step]))
        self._pending.clear()
        return self._stream.finish()
