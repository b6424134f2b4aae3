"""check(): the committed configuration is clean; each class of problem is caught."""

from __future__ import annotations

import re
import shutil
import wave
from pathlib import Path

import pytest

from core.settings import load_settings
from pbx.asterisk_conf import Problem, check
from pbx.conf_reader import TemplateAwareConfig, read_conf
from routing.menu import DEFAULT_ROUTES

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "asterisk-conf"
FIXTURE = ROOT / "tests" / "fixtures" / "asterisk-22" / "config"


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """A writable copy of the committed asterisk-conf/."""
    target = tmp_path / "conf"
    shutil.copytree(COMMITTED, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def only_error(problems: list[Problem], file: str, pattern: str) -> Problem:
    found = [p for p in errors(problems) if p.file == file and re.search(pattern, p.message)]
    assert found, f"no {pattern!r} in {[str(p) for p in problems]}"
    return found[0]


def test_committed_conf_has_no_errors() -> None:
    settings = load_settings({"HOTLINE_AMI_URL":
                              "ami://hotline:change-me-hotline-secret@127.0.0.1:5038"})
    queues = [r.queue for r in DEFAULT_ROUTES]
    assert errors(check(COMMITTED, settings, queues)) == []


def test_real_asterisk_fixture_options_are_all_known() -> None:
    """Files that loaded cleanly in Asterisk 22.10.1 use only options we accept."""
    problems = check(FIXTURE)
    assert [p for p in errors(problems) if p.file != "sounds"] == []


def test_pyst2_rejects_templates_our_reader_handles_them() -> None:
    from asterisk.config import Config, ParseError

    with pytest.raises(ParseError):
        Config(str(COMMITTED / "queues.conf"))
    conf = read_conf(COMMITTED / "queues.conf")
    template = conf.first("hotline-queue")
    assert template is not None and template.template
    help_queue = conf.first("hotline-help")
    assert help_queue is not None and help_queue.bases == ("hotline-queue",)
    assert help_queue.get("strategy") == "rrmemory"
    assert all(o.inherited for o in help_queue.options)
    assert "hotline-queue" not in {s.name for s in conf.active}
    assert isinstance(TemplateAwareConfig(COMMITTED / "pjsip.conf").categories, list)


def test_template_must_be_defined_first(conf: Path) -> None:
    edit(conf / "queues.conf", "[hotline-help](hotline-queue)", "[hotline-help](no-such-tpl)")
    problem = only_error(check(conf), "queues.conf", "no-such-tpl")
    assert problem.line == line_of(conf / "queues.conf", "[hotline-help]")


def test_typo_option_is_an_error_with_its_line(conf: Path) -> None:
    edit(conf / "queues.conf", "wrapuptime = 10", "wrapup-time = 10")
    problem = only_error(check(conf), "queues.conf", "'wrapup-time' is not a valid queue")
    assert problem.line == line_of(conf / "queues.conf", "wrapup-time")
    assert "wrapuptime" in problem.message  # the suggestion


@pytest.mark.parametrize(("file", "old", "new", "pattern"), [
    ("queues.conf", "strategy = rrmemory", "strategy = round-robin", "strategy"),
    ("queues.conf", "ringinuse = no", "ringinuse = nope", "expected yes or no"),
    ("queues.conf", "joinempty = yes", "joinempty = paused,sleepy", "sleepy"),
    ("manager.conf", "writetimeout = 5000", "write_timeout = 5000", "write_timeout"),
    ("manager.conf", "displayconnects = yes", "displayconnect = yes", "displayconnect"),
    ("pjsip.conf", "rtp_symmetric = yes\nforce_rport", "rtp_symetric = yes\nforce_rport",
     "rtp_symetric"),
    ("pjsip.conf", "auth_type = userpass", "auth_type = plain", "auth_type"),
    ("pjsip.conf", "max_contacts = 1", "max_contact = 1", "max_contact"),
    ("pjsip.conf", "protocol = udp", "protocol = sctp", "protocol"),
    ("logger.conf", "queue_log_to_file = yes", "queuelog_to_file = yes", "queuelog_to_file"),
    ("cdr.conf", "unanswered = yes", "unanswerd = yes", "unanswerd"),
    ("musiconhold.conf", "mode = files", "mode = folder", "mode"),
    ("extensions.conf", "writeprotect = yes", "write_protect = yes", "write_protect"),
])
def test_bad_option_or_value(conf: Path, file: str, old: str, new: str, pattern: str) -> None:
    edit(conf / file, old, new)
    problem = only_error(check(conf), file, pattern)
    assert problem.line is not None


def test_missing_context_goto_gosub_queue_and_endpoint(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, "Goto(from-pstn,12345,1)\n\n; FASTAGI", "Goto(from-psnt,12345,1)\n\n; FASTAGI")
    edit(ext, ",,hotline-record)", ",,hotline-recording)")
    edit(conf / "pjsip.conf", "context = agents-out", "context = agent-out")
    problems = check(conf)
    assert only_error(problems, "extensions.conf", "from-psnt").line == line_of(ext, "from-psnt")
    only_error(problems, "extensions.conf", "member gosub context 'hotline-recording'")
    only_error(problems, "pjsip.conf", "agent-out")


def test_missing_label_and_local_context(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, '"hangup"]?end)', '"hangup"]?the-end)')
    edit(ext, "Dial(PJSIP/${EXTEN}@trunk,30)", "Dial(Local/${EXTEN}@citizens/n,30)")
    problems = check(conf)
    only_error(problems, "extensions.conf", "label 'the-end'")
    only_error(problems, "extensions.conf", "Local/...@citizens")


def test_gosub_in_old_macro_position(conf: Path) -> None:
    edit(conf / "extensions.conf", ",,hotline-record)", ",,,hotline-record)")
    only_error(check(conf), "extensions.conf", "7th argument")


def test_dial_to_undefined_pjsip_endpoint(conf: Path) -> None:
    edit(conf / "extensions.conf", "PJSIP/${EXTEN}@trunk", "PJSIP/${EXTEN}@carrier")
    only_error(check(conf), "extensions.conf", "endpoint 'carrier'")


def test_missing_queue(conf: Path) -> None:
    text = (conf / "queues.conf").read_text(encoding="utf-8")
    (conf / "queues.conf").write_text(text.replace("[hotline-general](hotline-queue)\n", ""),
                                      encoding="utf-8")
    problems = check(conf, queue_names=["hotline-help", "hotline-general"])
    only_error(problems, "queues.conf", "'hotline-general' is used by the routing table")
    # the dialplan's fallback global names it too
    only_error(problems, "extensions.conf", "GENERAL_QUEUE")


def test_missing_sound(conf: Path) -> None:
    (conf / "sounds" / "hotline" / "thanks.wav").unlink()
    with (conf / "extensions.conf").open("a", encoding="utf-8") as fh:
        fh.write("\n[closed]\nexten => s,1,Playback(hotline/closed&hotline/welcome)\n"
                 " same => n,Hangup()\n")
    problems = check(conf)
    only_error(problems, "sounds", "'hotline/thanks'")
    only_error(problems, "extensions.conf", "'hotline/closed'")
    assert not [p for p in problems if "hotline/welcome" in p.message]


def test_queue_announcements_need_the_callers_language_sounds(conf: Path) -> None:
    (conf / "sounds" / "zh" / "queue-thankyou.wav").unlink()
    (conf / "sounds" / "zh" / "digits" / "hundred.wav").unlink()
    problems = check(conf)
    found = only_error(problems, "queues.conf", r"\[hotline-help\] announces to 'zh' callers")
    assert "digits/hundred" in found.message and "queue-thankyou" in found.message
    assert found.line == line_of(conf / "queues.conf", "[hotline-help]")
    # a queue that does not announce needs nothing; nor does an English dialplan
    edit(conf / "queues.conf", "announce-frequency = 60", "announce-frequency = 0")
    edit(conf / "queues.conf", "periodic-announce-frequency = 90",
         "periodic-announce-frequency = 0")
    assert not [p for p in check(conf) if "announces to" in p.message]


def test_thanks_follow_the_hold_time_even_without_positions(conf: Path) -> None:
    (conf / "sounds" / "zh" / "queue-thankyou.wav").unlink()
    edit(conf / "queues.conf", "announce-position = yes", "announce-position = no")
    only_error(check(conf), "queues.conf", r"sounds/zh/ lacks queue-thankyou")


def test_a_dialect_falls_back_to_its_language_sounds(conf: Path) -> None:
    edit(conf / "extensions.conf", "Set(CHANNEL(language)=zh)", "Set(CHANNEL(language)=zh_CN)")
    assert not [p for p in check(conf) if "announces to" in p.message]
    (conf / "sounds" / "zh" / "queue-seconds.wav").unlink()
    only_error(check(conf), "queues.conf", r"'zh_CN' callers.*queue-seconds")


def test_periodic_announcement_in_the_callers_language(conf: Path) -> None:
    (conf / "sounds" / "zh" / "queue-periodic-announce.wav").unlink()
    only_error(check(conf), "queues.conf", r"sounds/zh/ lacks queue-periodic-announce")
    edit(conf / "extensions.conf", "Set(CHANNEL(language)=zh)", "Set(CHANNEL(language)=en)")
    assert not [p for p in check(conf) if "announces to" in p.message]


def test_sound_in_wrong_wav_format(conf: Path) -> None:
    with wave.open(str(conf / "sounds" / "hotline" / "welcome.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(b"\0" * 400)
    only_error(check(conf), "sounds/hotline/welcome.wav", "44100 Hz")


@pytest.mark.parametrize(("write", "pattern"), [
    ("call,agent,user,originate,reporting,system", "'system'"),
    ("call,agent,command", "'command'"),
    ("call,agent,config,originate", "'config'"),
    ("all", "'all'"),
])
def test_dangerous_write_class(conf: Path, write: str, pattern: str) -> None:
    edit(conf / "manager.conf", "write = call,agent,user,originate,reporting", f"write = {write}")
    problem = only_error(check(conf), "manager.conf", f"write includes {pattern}")
    assert problem.line == line_of(conf / "manager.conf", "write =")


def test_originate_is_allowed_and_read_needs_system(conf: Path) -> None:
    edit(conf / "manager.conf", "read = system,call,", "read = call,")
    problems = check(conf)
    only_error(problems, "manager.conf", "read lacks 'system'")
    assert not [p for p in errors(problems) if "originate" in p.message]


@pytest.mark.parametrize(("old", "new", "pattern"), [
    ("deny = 0.0.0.0/0.0.0.0\n", "", "lets any address log in"),
    ("deny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n", "", "no permit/deny"),
    ("deny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n",
     "permit = 127.0.0.1/255.255.255.255\ndeny = 0.0.0.0/0.0.0.0\n", "denies every address"),
    ("permit = 127.0.0.1/255.255.255.255", "permit = 0.0.0.0/0", "lets any address"),
    ("permit = 127.0.0.1/255.255.255.255", "permit = 10.1.2.3", "backend's address 127.0.0.1"),
])
def test_ami_acl(conf: Path, old: str, new: str, pattern: str) -> None:
    edit(conf / "manager.conf", old, new)
    only_error(check(conf, load_settings({})), "manager.conf", pattern)


def test_ami_user_and_secret_from_settings(conf: Path) -> None:
    settings = load_settings({"HOTLINE_AMI_URL": "ami://hotline:other@127.0.0.1:5039"})
    problems = check(conf, settings)
    only_error(problems, "manager.conf", "secret differs")
    only_error(problems, "manager.conf", "port 5038")
    other = load_settings({"HOTLINE_AMI_URL": "ami://backend:x@127.0.0.1:5038"})
    only_error(check(conf, other), "manager.conf", r"no \[backend\] user")


def test_agi_pointing_elsewhere(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, "FASTAGI = agi://127.0.0.1:4573", "FASTAGI = agi://10.9.9.9:4573")
    with ext.open("a", encoding="utf-8") as fh:
        fh.write("\n[direct]\nexten => s,1,AGI(agi://127.0.0.1:9999/ivr)\n")
    problems = check(conf, load_settings({}))
    assert only_error(problems, "extensions.conf", "10.9.9.9:4573").line == line_of(ext,
                                                                                  "FASTAGI =")
    assert only_error(problems, "extensions.conf", ":9999").line == line_of(ext, ":9999")
    # a wildcard listener accepts any host on its port
    wildcard = load_settings({"HOTLINE_AGI_LISTEN": "0.0.0.0:4573"})
    assert not [p for p in errors(check(conf, wildcard)) if "10.9.9.9" in p.message]


def test_queue_log_off_is_an_error(conf: Path) -> None:
    edit(conf / "logger.conf", "queue_log = yes", "queue_log = no")
    only_error(check(conf), "logger.conf", "queue_log is off")


def test_unparseable_line_and_missing_file(conf: Path) -> None:
    with (conf / "queues.conf").open("a", encoding="utf-8") as fh:
        fh.write("this line has no equals sign\n")
    (conf / "manager.conf").unlink()
    problems = check(conf)
    only_error(problems, "queues.conf", "name = value")
    only_error(problems, "manager.conf", "missing")


def test_problem_prints_as_file_line_severity() -> None:
    assert str(Problem("queues.conf", 12, "bad", "error")) == "queues.conf:12: error: bad"
