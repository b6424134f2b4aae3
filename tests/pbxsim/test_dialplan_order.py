"""The stand-in tries a context's extensions in Asterisk 22's order
(``ext_cmp`` in main/pbx.c), not by the patterns' total width."""

from __future__ import annotations

from pbxsim.config import Dialplan


def first_match(text: str, number: str) -> str:
    ctx = Dialplan.from_text(text).contexts["c"]
    return next(e.pattern for e in ctx.extensions if e.matches(number))


def test_a_narrower_first_position_wins_as_in_asterisk() -> None:
    # pbx.c's own example: 1XXXXX before X11111 (the first position decides).
    text = "[c]\nexten => _X11111,1,NoOp(x)\nexten => _1XXXXX,1,NoOp(one)\n"
    assert first_match(text, "111111") == "_1XXXXX"


def test_literals_before_patterns_and_dot_last() -> None:
    text = ("[c]\nexten => _X.,1,NoOp(any)\nexten => _13XXXXXXXXX,1,NoOp(m)\n"
            "exten => 13800138000,1,NoOp(one)\n")
    assert first_match(text, "13800138000") == "13800138000"
    assert first_match(text, "13900139000") == "_13XXXXXXXXX"
    assert first_match(text, "25") == "_X."  # "." is one or more
