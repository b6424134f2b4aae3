"""Config parsing, dialplan structure, pattern matching, expressions."""

from __future__ import annotations

from pbxsim.config import Dialplan, load_manager, load_queues, parse_conf, pattern_matches
from pbxsim.expressions import evaluate, substitute
from tests.pbxsim.helpers import PROD_CONF, TEST_CONF


def test_templates_and_comments() -> None:
    secs = parse_conf("""
[tpl](!)
a = 1 ; comment
b => 2
[x](tpl)
b = 3
c = semi\\;colon
""")
    tpl, x = secs
    assert tpl.is_template and not x.is_template
    assert x.options == [("a", "1"), ("b", "2"), ("b", "3"), ("c", "semi;colon")]


def test_production_queues_use_template() -> None:
    general, queues = load_queues(PROD_CONF / "queues.conf")
    assert "hotline-queue" not in queues
    assert set(queues) >= {"hotline-help", "hotline-general"}
    help_q = queues["hotline-help"]
    assert (help_q.strategy, help_q.timeout, help_q.retry, help_q.wrapuptime) == (
        "rrmemory",
        15,
        2,
        10,
    )
    assert help_q.ringinuse is False and help_q.setinterfacevar is True
    assert general["log_membername_as_agent"] == "yes"


def test_manager_users() -> None:
    _, users = load_manager(PROD_CONF / "manager.conf")
    u = users["hotline"]
    assert "system" in u.read and "command" not in u.write and "originate" in u.write
    assert u.acl == [("deny", "0.0.0.0/0.0.0.0"), ("permit", "127.0.0.1/255.255.255.255")]


def test_dialplan_same_labels_and_priorities() -> None:
    dp = Dialplan.from_text((PROD_CONF / "extensions.conf").read_text())
    assert dp.globals["GENERAL_QUEUE"] == "hotline-general"
    ext = dp.find("from-pstn", "12345")
    assert ext is not None and ext.pattern == "12345"
    assert ext.steps[1].app == "NoOp"
    agi = [p for p, step in sorted(ext.steps.items()) if step.app == "AGI"]
    assert ext.steps[agi[0]].data == "${FASTAGI}/ivr"
    q = ext.labels["queue"]
    assert ext.steps[q].app == "Set" and ext.steps[q + 1].app == "Set"
    assert ext.steps[q + 2].app == "Queue"
    # Queue(name, options c, , , timeout (the overflow's or QUEUE_TIMEOUT), , member gosub)
    args = ext.steps[q + 2].data
    assert args.startswith("${HOTLINE_QUEUE},c,,,") and args.endswith(",,hotline-record")
    assert "${QUEUE_TIMEOUT}" in args
    assert ext.steps[ext.labels["end"]].app == "Hangup"
    # A legacy number falls to the _X. pattern; the literal wins for 12345.
    assert dp.find("from-pstn", "96110").pattern == "_X."
    assert dp.find("callback-out", "13800138000").pattern == "_1[3-9]XXXXXXXXX"
    # Long distance only to the city's own area code; abroad hangs up.
    assert dp.find("callback-out", "09173212345").pattern == "_0917NXXXXXX"
    assert dp.find("callback-out", "02912345678") is None
    assert dp.find("callback-out", "0085212345678").pattern == "_00."
    assert dp.find("callback-out", "1234") is None
    assert dp.exists("hotline-record", "s", 2) and not dp.exists("hotline-record", "s", 3)


def test_dialplan_context_templates() -> None:
    dp = Dialplan.from_text((TEST_CONF / "extensions.conf").read_text())
    assert "qtpl" not in dp.contexts
    ext = dp.find("q-linear", "p5")
    assert ext is not None and ext.labels["enter"] == 3 and ext.steps[3].app == "Queue"


def test_patterns() -> None:
    assert pattern_matches("_X.", "12")
    assert not pattern_matches("_X.", "1")  # "." is one or more characters
    assert pattern_matches("_1XXXXXXXXXX", "13800138000")
    assert not pattern_matches("_1XXXXXXXXXX", "1380013800")
    assert pattern_matches("_N[2-5]!", "32")
    assert not pattern_matches("_NXX", "123")
    assert pattern_matches("12345", "12345") and not pattern_matches("12345", "123456")


class Src:
    def __init__(self, **v: str) -> None:
        self.v = v

    def get_var(self, name: str) -> str | None:
        return self.v.get(name)

    def call_function(self, name: str, args: str) -> str | None:
        return {"CALLERID": {"num": "13800138000", "name": "张三"}}.get(name, {}).get(args)

    def epoch(self) -> float:
        return 1795945068.0


def test_expressions() -> None:
    s = Src(HOTLINE_QUEUE="hotline-help", EMPTY="", N="5")
    assert evaluate('"abc" = "abc"') == "1"
    assert evaluate('"" != ""') == "0"
    assert evaluate("3 < 10") == "1" and evaluate('"3" > "10"') == "0"
    assert evaluate("2 + 3 - 1") == "4"
    assert evaluate('"a" = "b" | "c" = "c"') == "1"
    assert evaluate("1 & 0") == "0"
    assert substitute('$["${HOTLINE_QUEUE}" != ""]', s) == "1"
    assert substitute('$["${EMPTY}" = "" | "${EMPTY}" = "CONTINUE"]', s) == "1"
    assert substitute('${IF($["${UNSET}" = ""]?0:${N})}', s) == "0"
    assert substitute('${IF($["${N}" = ""]?0:${N})}', s) == "5"
    assert substitute("${CALLERID(num)}/${CALLERID(name)}", s) == "13800138000/张三"
    assert substitute("${LEN(${HOTLINE_QUEUE})}", s) == "12"
    assert substitute("${HOTLINE_QUEUE:8}", s) == "help"
    assert substitute("${HOTLINE_QUEUE:0:7}", s) == "hotline"
    assert substitute("${STRFTIME(${EPOCH},,%Y%m%d)}", Src(EPOCH="1795945068")) == "20261129"
    assert substitute("$[${N} + 2]", s) == "7"
