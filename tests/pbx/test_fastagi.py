"""Our FastAGI server against hostile and normal clients, over real sockets."""

from __future__ import annotations

import asyncio

from hotline.clock import run_simulated
from pbx import agi_protocol
from pbx.fastagi import AgiChannel, AgiHangup, FastAgiServer

ENV = (
    "agi_network: yes\nagi_network_script: {script}\nagi_request: agi://127.0.0.1/{script}\n"
    "agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1795945068.1\n"
    "agi_callerid: 13800138000\nagi_calleridname: 张三\n\n"
)


async def pbx_side(port: int, script: str, replies: dict[str, bytes], hangup_on: str = ""):
    """Play the PBX: send the env, answer commands from ``replies`` by verb."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV.format(script=script).encode())
    commands = []
    while True:
        line = await reader.readline()
        if not line:
            break
        text = line.decode().rstrip("\n")
        commands.append(text)
        verb = " ".join(agi_protocol.split_command(text)[:2])
        if hangup_on and verb.startswith(hangup_on):
            writer.write(b"HANGUP\n" + agi_protocol.format_result(511))
            hangup_on = ""
            continue
        writer.write(replies.get(verb, b"200 result=1\n"))
    writer.close()
    return commands


def make_server(log: list, **kwargs) -> FastAgiServer:
    async def ivr(agi: AgiChannel) -> None:
        key = await agi.stream_file("hotline/menu", "0123456789")
        log.append(("key", key))
        await agi.set_variable("HOTLINE_QUEUE", 'q "1"\r\nHANGUP')
        log.append(("done", agi.env["agi_calleridname"]))

    async def fallback(agi: AgiChannel) -> None:
        log.append(("fallback", agi.script))
        await agi.set_variable("HOTLINE_QUEUE", "hotline-general")

    return FastAgiServer({"ivr": ivr}, fallback, host="127.0.0.1", port=0, **kwargs)


def test_given_valid_session_then_commands_are_quoted_and_results_parsed():
    async def main():
        log: list = []
        server = make_server(log)
        await server.start()
        commands = await pbx_side(server.port, "ivr", {"STREAM FILE": b"200 result=50 endpos=1\n"})
        await server.close()
        return log, commands

    log, commands = run_simulated(main())
    assert log == [("key", "2"), ("done", "张三")]
    assert commands[0] == 'STREAM FILE "hotline/menu" "0123456789"'
    # CR/LF turned into spaces, quotes escaped: one command, one line.
    assert commands[1] == 'SET VARIABLE "HOTLINE_QUEUE" "q \\"1\\"  HANGUP"'
    assert agi_protocol.split_command(commands[1])[3] == 'q "1"  HANGUP'


def test_given_unknown_script_then_fallback_still_queues_the_caller():
    async def main():
        log: list = []
        server = make_server(log)
        await server.start()
        commands = await pbx_side(server.port, "nonsense", {})
        await server.close()
        return log, commands

    log, commands = run_simulated(main())
    assert log == [("fallback", "nonsense")]
    assert commands == ['SET VARIABLE "HOTLINE_QUEUE" "hotline-general"']


def test_given_hangup_notice_then_handler_stops_with_agihangup():
    async def main():
        seen: list = []

        async def ivr(agi: AgiChannel) -> None:
            try:
                await agi.command("RECORD FILE", "x", "wav", "#", 1000)
            except AgiHangup:
                seen.append("hangup")
                raise

        server = FastAgiServer({"ivr": ivr}, ivr, host="127.0.0.1", port=0)
        await server.start()
        await pbx_side(server.port, "ivr", {}, hangup_on="RECORD FILE")
        await asyncio.sleep(0.1)
        await server.close()
        return seen

    assert run_simulated(main()) == ["hangup"]


def test_given_hostile_clients_then_a_valid_session_is_still_served():
    async def main():
        log: list = []
        server = make_server(log, header_timeout=5.0)
        await server.start()
        # 100 connect-and-close clients
        for _ in range(100):
            _r, w = await asyncio.open_connection("127.0.0.1", server.port)
            w.close()
        # one sending 1 MB of garbage, one stalling mid-header
        _r1, garbage = await asyncio.open_connection("127.0.0.1", server.port)
        garbage.write(b"\x00\xff garbage " * 100_000)
        r2, staller = await asyncio.open_connection("127.0.0.1", server.port)
        staller.write(b"agi_network: yes\nagi_netw")
        valid = await pbx_side(server.port, "ivr", {"STREAM FILE": b"200 result=49\n"})
        stall_closed = await asyncio.wait_for(r2.read(), 10)  # closed after the header timeout
        status = server.status()
        await server.close()
        return log, valid, stall_closed, status

    log, valid, stall_closed, status = run_simulated(main())
    assert ("key", "1") in log and len(valid) == 2
    assert stall_closed == b""
    assert status["bad_requests"] >= 2 and status["sessions_served"] == 1


def test_given_session_cap_then_extra_sessions_are_refused():
    async def main():
        gate = asyncio.Event()

        async def ivr(agi: AgiChannel) -> None:
            await gate.wait()

        server = FastAgiServer({"ivr": ivr}, ivr, host="127.0.0.1", port=0, max_sessions=2)
        await server.start()
        conns = []
        for _ in range(3):
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            w.write(ENV.format(script="ivr").encode())
            conns.append((r, w))
            await asyncio.sleep(0.05)
        try:
            third = await asyncio.wait_for(conns[2][0].read(), 5)
        except ConnectionResetError:
            third = b""
        rejected = server.sessions_rejected
        gate.set()
        await server.close()
        return third, rejected

    third, rejected = run_simulated(main())
    assert third == b"" and rejected == 1


def test_given_client_that_never_answers_a_command_then_command_times_out():
    async def main():
        outcome: list = []

        async def ivr(agi: AgiChannel) -> None:
            try:
                await agi.command("NOOP")
            except Exception as exc:
                outcome.append(type(exc).__name__)

        server = FastAgiServer({"ivr": ivr}, ivr, host="127.0.0.1", port=0, command_timeout=3.0)
        await server.start()
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        w.write(ENV.format(script="ivr").encode())
        await r.readline()  # the NOOP, never answered
        await asyncio.sleep(5)
        await server.close()
        w.close()
        return outcome

    assert run_simulated(main()) == ["AgiTimeout"]
