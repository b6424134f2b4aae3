"""The result of transcribing one recording, and the key that names a recording.

These types travel between worker processes and the backend and end up in
the database, so they are plain data with a JSON form and nothing here
imports Vosk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def recording_key(audio: bytes) -> str:
    """Stable key of a recording: the sha256 hex digest of its file bytes.

    The database uses it to keep exactly one transcript per recording: the
    same file queued twice (a retry, a restart) maps to the same row.
    """
    return hashlib.sha256(audio).hexdigest()


@dataclass(frozen=True)
class Word:
    """One recognised word; times are seconds from the start of the audio."""

    word: str
    start: float
    end: float
    conf: float

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "start": self.start, "end": self.end, "conf": self.conf}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        return cls(str(data["word"]), float(data["start"]), float(data["end"]),
                   float(data["conf"]))


@dataclass(frozen=True)
class Transcript:
    """A timed transcript.

    ``words`` are in time order and lie inside ``[0, seconds_audio]``;
    silence gives ``text == ""`` and no words.  ``seconds_spent`` is the
    recogniser's own time (decoding the container is not counted), so
    ``seconds_spent / seconds_audio`` is the real-time factor.
    """

    text: str
    words: list[Word] = field(default_factory=list)
    language: str = ""
    model_name: str = ""
    seconds_audio: float = 0.0
    seconds_spent: float = 0.0

    @property
    def real_time_factor(self) -> float:
        return self.seconds_spent / self.seconds_audio if self.seconds_audio else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` gives back an equal Transcript."""
        return {
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
            "language": self.language,
            "model_name": self.model_name,
            "seconds_audio": self.seconds_audio,
            "seconds_spent": self.seconds_spent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        return cls(
            text=str(data["text"]),
            words=[Word.from_dict(w) for w in data.get("words", [])],
            language=str(data.get("language", "")),
            model_name=str(data.get("model_name", "")),
            seconds_audio=float(data.get("seconds_audio", 0.0)),
            seconds_spent=float(data.get("seconds_spent", 0.0)),
        )
