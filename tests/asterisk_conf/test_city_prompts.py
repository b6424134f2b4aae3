"""HOTLINE_PROMPTS_DIR: the city's own recordings of every prompt the IVR plays."""

from __future__ import annotations

import math
import shutil
import struct
import wave
from dataclasses import replace
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, SettingsError, load_settings
from ivr import prompts
from pbx.asterisk_conf import check
from pbx.conf_check import _Report
from pbx.conf_prompts import check_city_prompts

SOUNDS = PROJECT_ROOT / "asterisk-conf" / "sounds"


def _city(tmp_path: Path) -> Path:
    city = tmp_path / "city"
    for name in prompts.PLAYED:
        (city / f"{name}.wav").parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SOUNDS / f"{name}.wav", city / f"{name}.wav")
    return city


def _problems(city: Path) -> list[tuple[str, str, str]]:
    report = _Report()
    check_city_prompts(report, city)
    return [(p.severity, p.file, p.message) for p in report.problems()]


def _tone(path: Path, silence_before: float, amplitude: int, rate: int = 8000) -> None:
    frames = b"\0\0" * int(rate * silence_before) + b"".join(
        struct.pack("<h", max(-32768, min(32767, int(amplitude * math.sin(i / 3)))))
        for i in range(rate))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def test_the_synthetic_prompts_pass_as_a_citys_recordings(tmp_path):
    assert _problems(_city(tmp_path)) == []


def test_a_missing_prompt_is_an_error_naming_it(tmp_path):
    city = _city(tmp_path)
    (city / f"{prompts.DESCRIBE}.wav").unlink()
    assert _problems(city) == [("error", "HOTLINE_PROMPTS_DIR",
                                f"the IVR plays '{prompts.DESCRIBE}', but "
                                f"{prompts.DESCRIBE}.wav is missing from {city}")]


def test_format_silence_and_levels_are_checked(tmp_path):
    city = _city(tmp_path)
    _tone(city / "hotline/welcome.wav", 0.0, 20000, rate=44100)
    _tone(city / "hotline/menu.wav", 1.0, 20000)
    _tone(city / "hotline/invalid.wav", 0.0, 2000)
    _tone(city / "hotline/thanks.wav", 0.0, 50000)  # overdriven: flat tops at full scale
    found = {(severity, file.rsplit("/", 1)[-1], message.split(":")[0].split(" (")[0])
             for severity, file, message in _problems(city)}
    assert found == {
        ("error", "welcome.wav", "1 channel(s), 16-bit, 44100 Hz"),
        ("warning", "menu.wav", "1.0 s of silence before and 0.0 s after the words"),
        ("warning", "invalid.wav", "too quiet"),
        ("warning", "thanks.wav", "clipped"),
    }


def test_the_setting_reaches_asterisk_conf_check(tmp_path):
    city = _city(tmp_path)
    (city / f"{prompts.MENU}.wav").unlink()
    problems = check(PROJECT_ROOT / "asterisk-conf", prompts_dir=city)
    assert [p.message for p in problems if p.severity == "error"] == [
        f"the IVR plays '{prompts.MENU}', but {prompts.MENU}.wav is missing from {city}"]
    settings = replace(load_settings(env={}), prompts_dir=city)
    assert [p.file for p in check(PROJECT_ROOT / "asterisk-conf", settings)
            if p.severity == "error"] == ["HOTLINE_PROMPTS_DIR"]


def test_the_setting_must_name_a_directory(tmp_path):
    assert load_settings(env={"HOTLINE_PROMPTS_DIR": str(tmp_path)}).prompts_dir == tmp_path
    with pytest.raises(SettingsError, match="HOTLINE_PROMPTS_DIR"):
        load_settings(env={"HOTLINE_PROMPTS_DIR": str(tmp_path / "nowhere")})
