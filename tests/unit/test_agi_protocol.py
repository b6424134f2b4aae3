from __future__ import annotations

import pytest

from pbx import agi_protocol


def agi_sides(fixtures_dir, name: str) -> tuple[bytes, list[tuple[str, list[str]]]]:
    """The environment block, then (command, [reply lines]) pairs."""
    text = (fixtures_dir / "scenarios" / name).read_text("utf-8")
    head, *chunks = text.split("\n>>>> SENT: ")
    pairs = []
    for chunk in chunks:
        command, _, replies = chunk.partition("\n")
        pairs.append((command, [line for line in replies.split("\n") if line]))
    return head.encode(), pairs


def test_given_fixture_env_when_parsed_then_fields_are_exact(fixtures_dir):
    env_bytes, _ = agi_sides(fixtures_dir, "three-calls.agi-1.raw")
    env, rest = agi_protocol.parse_env(env_bytes)
    assert env["agi_network_script"] == "ivr"
    assert env["agi_calleridname"] == "张三"
    assert env["agi_uniqueid"] == "1795945068.1"
    assert env["agi_accountcode"] == ""
    assert rest == b""


def test_given_partial_env_then_incomplete_and_garbage_then_error():
    with pytest.raises(agi_protocol.AgiEnvIncomplete):
        agi_protocol.parse_env(b"agi_network: yes\nagi_request: agi://x/ivr\n")
    with pytest.raises(agi_protocol.AgiProtocolError):
        agi_protocol.parse_env(b"GET / HTTP/1.1\nHost: x\n\n")
    with pytest.raises(agi_protocol.AgiProtocolError):
        agi_protocol.parse_env(b"x" * (agi_protocol.MAX_ENV_BYTES + 1))


def test_given_every_fixture_reply_when_parsed_then_understood(fixtures_dir):
    seen = {}
    for n in (1, 2, 3):
        _, pairs = agi_sides(fixtures_dir, f"three-calls.agi-{n}.raw")
        for command, replies in pairs:
            for line in replies:
                if line == "HANGUP":
                    continue
                seen[(command.split()[0], line)] = agi_protocol.parse_result(line)
    digit = seen[("WAIT", "200 result=50")]
    assert digit.ok and digit.result == 50 and chr(digit.result) == "2"
    hangup = seen[("RECORD", "200 result=-1 (hangup) endpos=11360")]
    assert hangup.result == -1 and hangup.data == "hangup" and hangup.extra == {"endpos": "11360"}
    timeout = seen[("GET", "200 result= (timeout)")]
    assert timeout.result is None and timeout.data == "timeout"
    dead = seen[("GET", "511 Command Not Permitted on a dead channel or intercept routine")]
    assert dead.dead_channel


@pytest.mark.parametrize("value", ['plain', 'two words', 'quote " inside', 'back\\slash',
                                   'end\\', '张三', '', 'x\r\nHANGUP'])
def test_given_any_value_when_quoted_then_split_gives_it_back_on_one_line(value):
    line = agi_protocol.format_command("SET VARIABLE", agi_protocol.quote("NAME"),
                                       agi_protocol.quote(value)).decode()
    assert line.count("\n") == 1
    words = agi_protocol.split_command(line)
    assert words[:2] == ["SET", "VARIABLE"]
    assert words[2] == "NAME"
    assert words[3] == value.replace("\r", " ").replace("\n", " ")


def test_format_result_matches_asterisk_wording():
    assert agi_protocol.format_result(200, 0, endpos=11360) == b"200 result=0 endpos=11360\n"
    assert agi_protocol.format_result(200, None, "timeout") == b"200 result= (timeout)\n"
    assert agi_protocol.format_result(511).startswith(b"511 Command Not Permitted")
