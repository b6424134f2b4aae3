"""Protocol edges pinned in bytes, each expected value written by hand.

Round-trip tests (quote then split) pass even when both sides share a bug;
these say exactly which bytes go on the wire and which text comes out.
"""

from __future__ import annotations

import pytest

from pbx.agi_protocol import (
    format_command,
    format_result,
    parse_env,
    parse_result,
    quote,
    single_line,
    split_command,
)
from pbx.ami_protocol import AmiMessage, AmiProtocolError, encode, parse

# -- AGI: command lines -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("plain", b'"plain"'),
        ("two words", b'"two words"'),
        ("a\x00b", b'"ab"'),  # NUL would cut the line short in Asterisk's C parser
        ("\x00", b'""'),
        ('say "hi"', b'"say \\"hi\\""'),
        ("C:\\dir\\", b'"C:\\\\dir\\\\"'),
        ("line1\r\nline2", b'"line1  line2"'),  # CR/LF would start a second command
        ("end\n", b'"end "'),
        ("张三", b'"\xe5\xbc\xa0\xe4\xb8\x89"'),
        ("é\\\"\x00\r", b'"\xc3\xa9\\\\\\" "'),
        ("", b'""'),
        (17, b'"17"'),
    ],
)
def test_given_awkward_argument_when_quoted_then_wire_bytes_are_exact(value, wire):
    assert quote(value).encode() == wire


def test_given_command_with_data_arguments_when_formatted_then_line_is_exact():
    line = format_command("SET", "VARIABLE", quote("HOTLINE_NOTE"), quote('a\x00"b\\ c\r\nd'))
    assert line == b'SET VARIABLE "HOTLINE_NOTE" "a\\"b\\\\ c  d"\n'
    assert split_command(line.decode()) == ["SET", "VARIABLE", "HOTLINE_NOTE", 'a"b\\ c  d']


def test_given_verb_words_with_controls_when_formatted_then_one_line_without_nul():
    assert format_command("STREAM", "FILE", "hello\x00\nworld", '""') == (
        b'STREAM FILE hello world ""\n'
    )
    assert format_command("GET", "DATA", "x", quote_all=True) == b'"GET" "DATA" "x"\n'


def test_single_line_removes_nul_and_turns_breaks_into_spaces():
    assert single_line("a\x00b\rc\nd\r\n") == "ab c d  "
    assert single_line(5) == "5"


def test_given_result_data_with_controls_when_formatted_then_line_is_exact():
    assert format_result(200, 1, "va\x00l\nue", endpos=8000) == (
        b"200 result=1 (val ue) endpos=8000\n"
    )
    assert format_result(200) == b"200 result=\n"
    assert format_result(200, -1, "hangup") == b"200 result=-1 (hangup)\n"
    assert format_result(511) == (
        b"511 Command Not Permitted on a dead channel or intercept routine\n"
    )
    assert format_result(510) == b"510 Invalid or unknown command\n"
    assert format_result(520, data="Usage: x") == b"520 Usage: x\n"


def test_given_result_lines_as_asterisk_writes_them_then_fields_are_exact():
    r = parse_result("200 result=-1 (hangup) endpos=12345\r\n")
    assert (r.code, r.result, r.data, r.extra) == (200, -1, "hangup", {"endpos": "12345"})
    r = parse_result("200 result= (timeout)")
    assert (r.result, r.data) == (None, "timeout")
    r = parse_result("200 result=1 (张 三 )")
    assert (r.result, r.data) == (1, "张 三 ")
    r = parse_result("511 Command Not Permitted on a dead channel or intercept routine")
    assert (r.ok, r.dead_channel, r.result) == (False, True, None)
    r = parse_result("520-Invalid command syntax.  Proper usage follows:")
    assert (r.code, r.text) == (520, "Invalid command syntax.  Proper usage follows:")


def test_given_env_values_with_inner_and_trailing_spaces_then_kept():
    env, rest = parse_env(
        b"agi_request: agi://127.0.0.1/ivr\n"
        b"agi_calleridname:  \xe5\xbc\xa0 \xe4\xb8\x89 \n"
        b"agi_callerid:13800138000\n\nrest"
    )
    assert env["agi_calleridname"] == " 张 三 "
    assert env["agi_callerid"] == "13800138000"
    assert rest == b"rest"


# -- AMI: values as Asterisk sends them ----------------------------------------

# Lines copied from tests/fixtures/asterisk-22/scenarios/sip-agent.ami.raw: RTCP
# statistics come with leading spaces inside the value, empty values end in ": ".
RTCP_LINE = (
    b"Value:   minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;"
    b"  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;"
    b"  avgtxlost=000.000000;  stdevtxlost=000.000000;"
)


def test_given_value_with_leading_inner_spaces_from_asterisk_then_only_separator_dropped():
    wire = (b"Event: VarSet\r\nVariable: RTPAUDIOQOSLOSS\r\n" + RTCP_LINE
            + b"\r\nAccountCode: \r\n\r\n")
    (msg,), rest = parse(wire)
    assert rest == b""
    assert msg["Value"] == (
        "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;"
        "  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;"
        "  avgtxlost=000.000000;  stdevtxlost=000.000000;"
    )
    assert msg["AccountCode"] == ""


def test_given_values_with_inner_and_trailing_spaces_then_kept_byte_for_byte():
    wire = (
        "Event: Newchannel\r\nCallerIDName: 张 三 \r\nExten:  12345\r\n"
        "AppData: Queue(hotline-help,,,,  ,) \r\nKey:NoSpace\r\n  Padded : x\r\n\r\n"
    ).encode()
    (msg,), _ = parse(wire)
    assert msg.headers == [
        ("Event", "Newchannel"),
        ("CallerIDName", "张 三 "),
        ("Exten", " 12345"),
        ("AppData", "Queue(hotline-help,,,,  ,) "),
        ("Key", "NoSpace"),
        ("Padded", "x"),
    ]


def test_given_line_without_colon_then_kept_as_output_verbatim():
    (msg,), _ = parse(b"Response: Follows\r\n  Name   Value \r\n\r\n")
    assert msg.getall("Output") == ["  Name   Value "]


def test_given_action_with_spaces_and_unicode_when_encoded_then_bytes_are_exact():
    wire = encode([
        ("Action", "Originate"),
        ("CallerID", " 张三 <13800138000> "),
        ("Variable", ["A=1", "B= 2 "]),
        ("Async", None),
    ])
    assert wire == (
        b"Action: Originate\r\n"
        b"CallerID:  \xe5\xbc\xa0\xe4\xb8\x89 <13800138000> \r\n"
        b"Variable: A=1\r\nVariable: B= 2 \r\nAsync: \r\n\r\n"
    )
    (back,), _ = parse(wire)
    assert back["CallerID"] == " 张三 <13800138000> "
    assert back.variables() == {"A": "1", "B": " 2 "}


@pytest.mark.parametrize(
    ("name", "value"),
    [("Channel", "a\rb"), ("Channel", "a\nb"), ("Channel", "a\x00b"),
     ("Bad Name ", "x"), ("Bad:Name", "x"), ("", "x"), ("Na\nme", "x")],
)
def test_given_breaking_name_or_value_when_encoded_then_refused(name, value):
    with pytest.raises(AmiProtocolError):
        encode([(name, value)])


def test_given_invalid_utf8_inside_a_message_then_replaced_not_fatal():
    (msg,), _ = parse(b"Event: X\r\nCallerIDName: a\xff\xfeb \r\n\r\n")
    assert msg["CallerIDName"] == "a\ufffd\ufffdb "


def test_message_getters_match_names_case_insensitively():
    msg = AmiMessage([("event", "Hangup"), ("ActionID", "7"), ("Variable", "A=1,B=2,C")])
    assert (msg.event, msg.action_id, msg.get("EVENT"), msg.is_event) == ("Hangup", "7",
                                                                          "Hangup", True)
    assert "actionid" in msg and "Missing" not in msg and 3 not in msg
    assert msg.variables() == {"A": "1", "B": "2"}


def test_given_message_past_the_limit_then_refused_even_when_complete_in_one_read():
    from pbx.ami_protocol import MAX_MESSAGE_BYTES

    body = b"Event: Huge\r\nData: " + b"x" * MAX_MESSAGE_BYTES
    with pytest.raises(AmiProtocolError):
        parse(body + b"\r\n\r\n")
    with pytest.raises(AmiProtocolError):
        parse(body)  # unfinished
    just_fits = b"Event: Big\r\nData: " + b"x" * (MAX_MESSAGE_BYTES - 19)
    (msg,), rest = parse(just_fits + b"\r\n\r\n")
    assert len(msg["Data"]) == MAX_MESSAGE_BYTES - 19 and rest == b""


# -- edges found by the mutation check (tests/MUTATION.md) ----------------------


def test_message_built_from_a_mapping_or_pairs_keeps_names_and_values():
    assert AmiMessage.of({"Action": "Ping", "N": 3}).headers == [("Action", "Ping"), ("N", "3")]
    assert AmiMessage.of([("A", 1), ("A", 2)]).headers == [("A", "1"), ("A", "2")]
    with pytest.raises(KeyError, match="Missing"):
        AmiMessage.of({"A": "1"})["Missing"]
    assert AmiMessage([("Variable", "X=a=b,Y==")]).variables() == {"X": "a=b", "Y": "="}
    assert AmiMessage([("A", "1"), ("a", "2"), ("B", "3")]).as_dict() == {"A": "1", "a": "2",
                                                                          "B": "3"}


def test_given_banner_then_event_in_one_read_then_each_exact():
    (banner, event), rest = parse(
        b"Asterisk Call Manager/11.0.0\r\n\r\n\r\nEvent: X\r\nUptime: 00:00:09\r\n\r\nEv")
    assert banner.headers == [("Banner", "Asterisk Call Manager/11.0.0")]
    assert event.headers == [("Event", "X"), ("Uptime", "00:00:09")]  # split at the first ":"
    assert rest == b"Ev"
    (odd,), _ = parse(b"Asterisk Call Manager/\xff\r\n")
    assert odd.headers == [("Banner", "Asterisk Call Manager/\ufffd")]
    assert parse(b"Asterisk Call Manager/11.0.0") == ([], b"Asterisk Call Manager/11.0.0")


def test_given_line_without_colon_then_header_named_output():
    (msg,), _ = parse(b"Response: Follows\r\nPrivilege: Command\r\nno colon here\r\n\r\n")
    assert msg.headers == [("Response", "Follows"), ("Privilege", "Command"),
                           ("Output", "no colon here")]


def test_unfinished_message_at_exactly_the_limit_is_kept_one_more_byte_is_refused():
    from pbx.ami_protocol import MAX_MESSAGE_BYTES

    assert parse(b"x" * MAX_MESSAGE_BYTES) == ([], b"x" * MAX_MESSAGE_BYTES)
    with pytest.raises(AmiProtocolError, match="larger than"):
        parse(b"x" * (MAX_MESSAGE_BYTES + 1))


def test_refusals_say_why():
    with pytest.raises(AmiProtocolError, match="line break or NUL"):
        encode([("Channel", "a\nb")])
    with pytest.raises(AmiProtocolError, match="bad AMI header name"):
        encode([("Bad:Name", "x")])


def test_sanitize_value_replaces_only_controls_and_cuts_at_the_limit():
    from pbx.ami_protocol import sanitize_value

    assert sanitize_value("Xavier\tX\r\nY\x00") == "Xavier X  Y "
    assert sanitize_value("张" * 300) == "张" * 200
    assert sanitize_value("abcdef", limit=3) == "abc"


def test_transcript_halves_split_exactly():
    from pbx.ami_protocol import iter_transcript_received, iter_transcript_sent

    data = (b"Asterisk Call Manager/11.0.0\r\n"
            b"\n>>>> SENT >>>>\nAction: Ping\r\n\r\n<<<< END SENT <<<<\n"
            b"Response: Success\r\n\r\n"
            b"\n>>>> SENT >>>>\nAction: Logoff\r\n\r\n<<<< END SENT <<<<\n"
            b"Response: Goodbye\r\n\r\n")
    assert b"".join(iter_transcript_received(data)) == (
        b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n\r\nResponse: Goodbye\r\n\r\n")
    assert list(iter_transcript_sent(data)) == [b"Action: Ping\r\n\r\n",
                                                b"Action: Logoff\r\n\r\n"]
    noted = data + b"\n#### peer closed\n"
    assert b"".join(iter_transcript_received(noted)) == b"".join(iter_transcript_received(data))


def test_env_block_edges():
    from pbx.agi_protocol import MAX_ENV_BYTES, AgiEnvIncomplete, AgiProtocolError

    env, rest = parse_env(b"agi_request: r\r\nagi_channel: PJSIP/x\r\n\n200 result=0\n\nmore")
    assert env == {"agi_request": "r", "agi_channel": "PJSIP/x"}
    assert rest == b"200 result=0\n\nmore"
    env, _ = parse_env(b"agi_network_script: ivr\nagi_callerid: \xff\n\n")
    assert env == {"agi_network_script": "ivr", "agi_callerid": "\ufffd"}
    with pytest.raises(AgiEnvIncomplete):
        parse_env(b"x" * MAX_ENV_BYTES)
    with pytest.raises(AgiProtocolError, match="larger than 16 KiB"):
        parse_env(b"x" * (MAX_ENV_BYTES + 1))
    with pytest.raises(AgiProtocolError, match="not an AGI environment line"):
        parse_env(b"agi_request: r\nfoo: bar\n\n")
    with pytest.raises(AgiProtocolError, match="without agi_request"):
        parse_env(b"agi_channel: PJSIP/x\n\n")


def test_result_lines_keep_their_text():
    r = parse_result("200 result=1 (x) endpos=5 k=a=b\r\n")
    assert (r.text, r.extra) == ("result=1 (x) endpos=5 k=a=b", {"endpos": "5", "k": "a=b"})
    r = parse_result("520 Usage: GET DATA <file> \n")
    assert (r.code, r.text, r.result) == (520, "Usage: GET DATA <file> ", None)
    assert parse_result("200 result=-").result is None
    assert parse_result("200 result=-1").result == -1
    assert parse_result("200 nothing").text == "nothing"
    assert format_result(520) == b"520 \n"


def test_split_command_edges():
    assert split_command('"a b" c\r\n') == ["a b", "c"]
    assert split_command('  SET  "" x ') == ["SET", "", "x"]
    assert split_command('x "q\\"uote" \\\\') == ["x", 'q"uote', "\\"]


def test_message_size_limit_counts_only_the_message():
    from pbx.ami_protocol import MAX_MESSAGE_BYTES

    exactly = b"Event: Big\r\nData: " + b"x" * (MAX_MESSAGE_BYTES - 18)
    assert len(exactly) == MAX_MESSAGE_BYTES
    first = b"Event: Small\r\n\r\n"
    (small, big), rest = parse(first + exactly + b"\r\n\r\n")
    assert small.headers == [("Event", "Small")] and big["Event"] == "Big" and rest == b""
    with pytest.raises(AmiProtocolError, match=f"^message larger than {MAX_MESSAGE_BYTES} bytes$"):
        parse(first + exactly + b"x\r\n\r\n")


def test_given_one_stray_line_break_then_next_message_whole():
    (msg,), _ = parse(b"\r\nEvent: X\r\n\r\n")
    assert msg.headers == [("Event", "X")]


def test_env_encoded_as_asterisk_sends_it():
    from pbx.agi_protocol import encode_env

    assert encode_env({"agi_request": "agi://h/ivr", "agi_calleridname": "张\n三\x00"}) == (
        "agi_request: agi://h/ivr\nagi_calleridname: 张 三\n\n".encode())


def test_env_and_result_errors_say_exactly_what():
    from pbx.agi_protocol import AgiProtocolError

    long_line = "x" * 70
    with pytest.raises(AgiProtocolError) as caught:
        parse_env(f"agi_request: r\n{long_line}\n\n".encode())
    assert str(caught.value) == f"not an AGI environment line: {'x' * 60!r}"
    with pytest.raises(AgiProtocolError) as caught:
        parse_env(b"agi_channel: x\n\n")
    assert str(caught.value) == "AGI environment without agi_request"
    with pytest.raises(AgiProtocolError) as caught:
        parse_env(b"x" * (16 * 1024 + 1))
    assert str(caught.value) == "AGI environment larger than 16 KiB"
    with pytest.raises(AgiProtocolError) as caught:
        parse_result("HANGUP " + "y" * 90)
    assert str(caught.value) == f"not an AGI result: {('HANGUP ' + 'y' * 90)[:80]!r}"


def test_env_and_result_line_ends_removed_and_nothing_more():
    env, _ = parse_env(b"\r\nagi_request: r\r\nagi_calleridname: AX \r\n\n")
    assert env == {"agi_request": "r", "agi_calleridname": "AX "}
    r = parse_result("200 nothingX\r\n")
    assert (r.code, r.result, r.text) == (200, None, "nothingX")
