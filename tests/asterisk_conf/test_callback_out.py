"""check(): every number the routing rules let callbacks dial reaches an
extension of [callback-out] that Dials, matched as Asterisk 22 matches
extensions (main/pbx.c, _extension_match_core)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pbx.asterisk_conf import Problem, check
from pbx.conf_reader import exten_matches, exten_order, exten_shape
from routing.dial_patterns import DEFAULT_CALLBACK_PATTERNS
from routing.menu import DEFAULT_ROUTES
from tests.asterisk_conf.test_check import COMMITTED, edit, errors, line_of

QUEUES = [r.queue for r in DEFAULT_ROUTES]
CONTEXT_LINE = "[callback-out]"


def block(pattern: str) -> str:
    return (f"exten => {pattern},1,NoOp(Call placed for an agent)\n"
            " same => n,Dial(PJSIP/${EXTEN}@trunk,30)\n same => n,Hangup()\n")


@pytest.mark.parametrize(("pattern", "yes", "no"), [
    ("_XZN", ["012", "192", "999"], ["002", "011", "01", "0123", "a12"]),
    ("_xzn", ["012"], ["011"]),  # X, Z and N in either case
    ("_1[3-9]X", ["130", "199"], ["120", "1a0"]),
    ("_[13-5]X", ["10", "30", "50"], ["20", "60"]),  # a set and a range together
    ("_[9-3]X", [], ["30", "90", "50"]),  # a backwards range matches nothing
    ("_1-2-3", ["123", "1-23"], ["1-2-3x"]),  # "-" is fluff, in the text too
    ("_[1-]X", ["10", "-10"], ["20"]),  # "1-" is no range: 1 or "-" ("-" is fluff)
    ("_1.", ["12", "1234"], ["1", "2"]),  # "." one or more
    ("_1!", ["1", "12"], ["2"]),  # "!" zero or more
    ("_1.2", ["13", "1999"], ["1"]),  # nothing after "." counts
    ("_1[]2", ["12"], ["1", "132"]),  # "[]" is skipped
    ("_12[]", [], ["12", "123"]),  # ... but the text may not end on it
    ("_12[]!", ["123"], ["12"]),
    ("_1[23", [], ["12", "1[23"]),  # "[" without "]": never matches
    ("123", ["123", "1-23"], ["12", "1234"]),  # no "_": one literal number
    ("_X/100", ["5"], ["55"]),  # a caller-id match limits who, not what
])
def test_extensions_match_as_asterisk_22_matches_them(pattern, yes, no) -> None:
    assert [t for t in yes if not exten_matches(pattern, t)] == []
    assert [t for t in no if exten_matches(pattern, t)] == []


def test_shapes_of_what_matches_nothing_and_of_caller_matches() -> None:
    assert exten_shape("_1[23") is None and exten_shape("_12[]") is None
    shape = exten_shape("_X/100")
    assert shape is not None and shape.by_caller


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    target = tmp_path / "conf"
    shutil.copytree(COMMITTED, target)
    return target


def callback_errors(conf_dir: Path, patterns: list[str] | None = None) -> list[Problem]:
    problems = check(conf_dir, None, QUEUES,
                     callback_patterns=DEFAULT_CALLBACK_PATTERNS if patterns is None else patterns)
    return [p for p in errors(problems) if "callback" in p.message]


def test_the_committed_conf_dials_every_default_callback_number() -> None:
    assert callback_errors(COMMITTED) == []


def test_a_missing_extension_is_named_with_a_number_it_leaves_out(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, block("_0917NXXXXXXX"), "")
    [problem] = callback_errors(conf)
    assert problem.line == line_of(ext, CONTEXT_LINE)
    assert problem.message == ("[callback-out] has no extension that dials 091720000000, "
                               "which the routing rules' callback pattern _0917NXXXXXXX allows")


def test_a_narrower_extension_leaves_the_rest_of_its_pattern_out(conf: Path) -> None:
    edit(conf / "extensions.conf", block("_NXXXXXX"), block("_[2-8]XXXXXX"))
    [problem] = callback_errors(conf)
    assert "dials 9000000," in problem.message and "pattern _NXXXXXX allows" in problem.message


def test_wider_or_several_extensions_may_cover_a_pattern(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, block("_NXXXXXX"), block("_[2-5]XXXXXX") + block("_[6-9]XXXXXX"))
    edit(ext, block("_NXXXXXXX"), block("_N!"))  # 7 and 8 digits alike
    assert callback_errors(conf) == []


def test_an_extension_that_hangs_up_on_an_allowed_number_is_an_error(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, block("_0917NXXXXXX"),
         block("_0917NXXXXXX") + "exten => _09172XXXXXX,1,Hangup()\n")
    [problem] = callback_errors(conf)
    assert problem.line == line_of(ext, "exten => _09172XXXXXX")
    assert problem.message == ("[callback-out] _09172XXXXXX answers 09172000000, which the "
                               "callback pattern _0917NXXXXXX allows, without Dial()")


def test_the_rules_own_list_is_what_is_checked(conf: Path) -> None:
    assert callback_errors(conf, ["_1[3-9]XXXXXXXXX"]) == []
    [problem] = callback_errors(conf, ["_1[3-9]XXXXXXXXX", "_010NXXXXXXX"])
    assert "dials 01020000000," in problem.message


def test_no_callback_out_context_is_an_error(conf: Path) -> None:
    ext = conf / "extensions.conf"
    text = ext.read_text(encoding="utf-8")
    ext.write_text(text.replace(CONTEXT_LINE, "[callback-elsewhere]"), encoding="utf-8")
    assert [p.message for p in callback_errors(conf)] == [
        "no [callback-out] context: callbacks and 回访 would dial nothing"]


# Asterisk 22 runs the first extension that matches in the order ext_cmp
# (main/pbx.c) keeps them; cases from its comments and its rules.
@pytest.mark.parametrize("names", [
    ["_1XXXXX", "_X11111"],  # left to right: "1" is more specific than "X"
    ["fax", "_307754XXXX", "_NXXNXXXXXX", "_NXXXXXXXXX"],  # the comment's (c), (b), (a), (d)
    ["13800138000", "_13X."],  # literal numbers before patterns
    ["_13X.", "_1[3-9]XXXXXXXXX", "_1X."],  # a digit, then [3-9] (7), then X
    ["_2X", "_NX", "_ZX", "_XX"],  # 1, 8, 9, 10 characters
    ["_[02]X", "_[12]X", "_[13]X"],  # equal sizes: lowest first, then the lower set
    ["_NXXXXXXXXX", "_NXXXXXX", "_NXX."],  # a pattern that goes on before one that ends
    ["_X.", "_X!"],  # "." before "!"
    ["_X/100", "_X"],  # the same name for some callers before the one for all
])
def test_extensions_are_tried_in_asterisk_22s_order(names) -> None:
    assert sorted(reversed(names), key=exten_order) == names


def test_names_asterisk_takes_for_one_extension_sort_alike() -> None:
    assert exten_order("_X.") == exten_order("_x.") == exten_order("_[0-9].")
    assert exten_order("_1-3X") == exten_order("_13X") == exten_order("_1[]3X")


def hangup(pattern: str) -> str:
    return f"exten => {pattern},1,Hangup()\n"


def test_a_catch_all_that_asterisk_tries_last_hangs_up_on_nothing_allowed(conf: Path) -> None:
    edit(conf / "extensions.conf", CONTEXT_LINE + "\n", CONTEXT_LINE + "\n" + hangup("_X."))
    assert callback_errors(conf) == []


def test_a_hang_up_more_specific_than_the_dialling_extension_is_an_error(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, CONTEXT_LINE + "\n", CONTEXT_LINE + "\n" + hangup("_13X."))
    assert [(p.line, p.message) for p in callback_errors(conf)] == [
        (line_of(ext, "exten => _13X."), "[callback-out] _13X. answers 13000000000, which "
         "the callback pattern _1[3-9]XXXXXXXXX allows, without Dial()")]


def test_a_literal_number_comes_before_every_pattern(conf: Path) -> None:
    edit(conf / "extensions.conf", CONTEXT_LINE + "\n",
         CONTEXT_LINE + "\n" + hangup("13800138000"))
    [problem] = callback_errors(conf)
    assert problem.message.startswith("[callback-out] 13800138000 answers 13800138000,")


def test_an_extension_without_priority_1_answers_nothing(conf: Path) -> None:
    edit(conf / "extensions.conf", CONTEXT_LINE + "\n",
         CONTEXT_LINE + "\nexten => _13X.,hint,PJSIP/agent\n")
    assert callback_errors(conf) == []


def test_an_extension_for_some_callers_neither_dials_for_all_nor_hides_a_hang_up(
        conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, block("_NXXXXXX"), block("_NXXXXXX/100"))
    [problem] = callback_errors(conf)
    assert "has no extension that dials 2000000," in problem.message
    edit(ext, block("_NXXXXXX/100"), block("_NXXXXXX") + hangup("_NXXXXXX/200"))
    [problem] = callback_errors(conf)
    assert problem.message.startswith("[callback-out] _NXXXXXX/200 answers 2000000,")


MOBILES = "[callback-mobiles]\n" + block("_1[3-9]XXXXXXXXX")


def test_included_contexts_answer_after_the_context_own_extensions(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, block("_1[3-9]XXXXXXXXX"), "include => callback-mobiles\n")
    ext.write_text(ext.read_text(encoding="utf-8") + "\n" + MOBILES, encoding="utf-8")
    assert callback_errors(conf) == []
    edit(ext, "include => callback-mobiles\n", "include => callback-mobiles\n" + hangup("_X."))
    [problem] = callback_errors(conf)  # ahead of anything included, however specific
    assert problem.message.startswith("[callback-out] _X. answers 13000000000,")


def test_an_include_for_some_times_does_not_dial_for_all(conf: Path) -> None:
    ext = conf / "extensions.conf"
    edit(ext, block("_1[3-9]XXXXXXXXX"), "include => callback-mobiles,09:00-18:00,*,*,*\n")
    ext.write_text(ext.read_text(encoding="utf-8") + "\n" + MOBILES, encoding="utf-8")
    [problem] = callback_errors(conf)
    assert "has no extension that dials 13000000000," in problem.message
