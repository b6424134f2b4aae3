from __future__ import annotations

import pytest

from pbx import ami_protocol
from pbx.ami_protocol import AmiMessage, AmiProtocolError


def received(fixtures_dir, name: str) -> bytes:
    raw = (fixtures_dir / "scenarios" / name).read_bytes()
    return b"".join(ami_protocol.iter_transcript_received(raw))


def test_given_three_call_transcript_when_parsed_whole_then_banner_and_events_come_out(
    fixtures_dir,
):
    messages, rest = ami_protocol.parse(received(fixtures_dir, "three-calls.ami.raw"))
    assert rest == b""
    assert messages[0].get("Banner") == "Asterisk Call Manager/11.0.0"
    assert messages[1].response == "Success" and messages[1].action_id == "a1"
    events = [m.event for m in messages if m.is_event]
    assert events.count("AgentConnect") == 1
    assert events.count("QueueCallerAbandon") == 2
    names = {m.get("CallerIDName") for m in messages if m.event == "QueueCallerJoin"}
    assert "张三" in names


def test_given_bytes_fed_one_at_a_time_when_parsed_then_utf8_names_survive(fixtures_dir):
    data = received(fixtures_dir, "three-calls.ami.raw")
    whole, _ = ami_protocol.parse(data)
    buffer, pieces = b"", []
    for i in range(len(data)):
        buffer += data[i:i + 1]
        got, buffer = ami_protocol.parse(buffer)
        pieces.extend(got)
    assert [m.headers for m in pieces] == [m.headers for m in whole]
    assert all("\ufffd" not in v for m in pieces for _, v in m.headers)


def test_given_repeated_headers_when_parsed_then_all_values_kept():
    msgs, rest = ami_protocol.parse(
        b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2,C=3\r\n\r\nEvent: Pa")
    assert rest == b"Event: Pa"
    assert msgs[0].getall("variable") == ["A=1", "B=2,C=3"]
    assert msgs[0].variables() == {"A": "1", "B": "2", "C": "3"}


def test_given_value_with_crlf_when_encoded_then_refused_before_anything_is_sent():
    with pytest.raises(AmiProtocolError):
        ami_protocol.encode({"Action": "Originate", "CallerID": "x\r\nAction: Command"})
    with pytest.raises(AmiProtocolError):
        ami_protocol.encode({"Action": "Ping", "Bad\nName": "1"})


def test_given_message_when_encoded_and_parsed_then_roundtrips_with_unicode():
    msg = AmiMessage.of([("Action", "QueueAdd"), ("MemberName", "张三"), ("Variable", "A=1")])
    data = ami_protocol.encode(msg)
    assert data.endswith(b"\r\n\r\n")
    back, rest = ami_protocol.parse(data)
    assert rest == b"" and back[0].headers == msg.headers


def test_given_endless_message_when_parsed_then_rejected():
    with pytest.raises(AmiProtocolError):
        ami_protocol.parse(b"Event: X\r\n" + b"A" * (ami_protocol.MAX_MESSAGE_BYTES + 10))


def test_given_sent_blocks_when_split_then_client_side_recovered(fixtures_dir):
    raw = (fixtures_dir / "scenarios" / "three-calls.ami.raw").read_bytes()
    sent = list(ami_protocol.iter_transcript_sent(raw))
    actions = [ami_protocol.parse(block)[0][0].action
               for block in sent]
    assert actions[:4] == ["Login", "Ping", "QueueAdd", "QueueAdd"]
    assert actions[-1] == "Logoff"


def test_sanitize_value_makes_one_line():
    assert ami_protocol.sanitize_value('a\r\nb"c', 10) == 'a  b"c'
