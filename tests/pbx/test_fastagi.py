"""Our FastAGI server against hostile and normal clients, over real sockets."""

from __future__ import annotations

import asyncio

from core.clock import run_simulated
from pbx import agi_protocol
from pbx.fastagi import AgiChannel, AgiCommandError, AgiHangup, FastAgiServer

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
        garbage.close()
        staller.close()
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
        for _r, w in conns:
            w.close()
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


# ---------------------------------------------------------------- the wire, line by line
async def one_session(handler, pbx, **kwargs):
    """Serve one session with ``handler``; ``pbx(reader, writer)`` plays the PBX.
    Returns what the handler returned (through ``out``) and the server."""
    server = FastAgiServer({"ivr": handler}, handler, host="127.0.0.1", port=0, **kwargs)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        await pbx(reader, writer)
    finally:
        writer.close()
    await asyncio.sleep(0.1)
    await server.close()
    return server


async def command_line(reader) -> str:
    return (await reader.readline()).decode().rstrip("\n")


def test_given_provisional_100_then_the_final_answer_is_the_result():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            out.append((await agi.exec("Wait", "1")).result)

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            assert await command_line(reader) == 'EXEC Wait "1"'
            writer.write(b"100 result=0 Trying...\n")
            await asyncio.sleep(0.05)
            writer.write(b"200 result=0\n")
            await reader.read()

        await one_session(ivr, pbx)
        return out

    assert run_simulated(main()) == [0]


def test_given_510_or_520_usage_block_then_command_error_and_the_session_goes_on():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            for verb in ("BOGUS", "STREAM FILE"):
                try:
                    await agi.command(verb)
                except AgiCommandError as exc:
                    out.append(str(exc)[:3])
            out.append(await agi.get_variable("X"))

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            await reader.readline()
            writer.write(agi_protocol.format_result(510))
            await reader.readline()
            writer.write(b"520-Invalid command syntax.  Proper usage follows:\n"
                         b" Usage: STREAM FILE <filename> <escape_digits>\n"
                         b"200 result=1 (not an answer: part of the usage text)\n"
                         b"520 End of proper usage.\n")
            await reader.readline()
            writer.write(b"200 result=1 (value)\n")
            await reader.read()

        await one_session(ivr, pbx)
        return out

    assert run_simulated(main()) == ["510", "520", "value"]


def test_given_header_and_answers_split_or_merged_across_reads_then_each_is_whole():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            out.append(agi.env["agi_calleridname"])
            out.append(await agi.get_variable("A"))
            out.append(await agi.get_variable("B"))

        async def pbx(reader, writer):
            env = ENV.format(script="ivr").encode()
            for i in range(0, len(env), 7):  # the header in 7-byte pieces
                writer.write(env[i:i + 7])
                await writer.drain()
                await asyncio.sleep(0.01)
            await reader.readline()
            writer.write("200 result=1 (张".encode()[:-1])  # splits a UTF-8 character
            await asyncio.sleep(0.05)
            writer.write("张".encode()[-1:] + b"\xe4\xb8\x89)\r\n")
            await reader.readline()
            writer.write(b"200 result=1 (b)\n")
            await reader.read()

        await one_session(ivr, pbx)
        return out

    assert run_simulated(main()) == ["张三", "张三", "b"]


def test_given_cancelled_command_then_its_late_answer_is_not_taken_for_the_next():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            try:
                await asyncio.wait_for(agi.get_variable("SLOW"), 1.0)
            except TimeoutError:
                out.append("gave up")
            out.append(await agi.get_variable("NEXT"))

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            assert "SLOW" in await command_line(reader)
            assert "NEXT" in await command_line(reader)  # sent before SLOW's answer
            writer.write(b"200 result=1 (slow)\n200 result=1 (next)\n")
            await reader.read()

        await one_session(ivr, pbx)
        return out

    assert run_simulated(main()) == ["gave up", "next"]


def test_given_hangup_notice_between_commands_then_the_next_command_is_not_sent():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            await agi.answer()
            await asyncio.sleep(1)
            try:
                await agi.stream_file("hotline/menu")
            except AgiHangup:
                out.append("hangup")

        lines: list = []

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            lines.append(await command_line(reader))
            writer.write(b"200 result=0\nHANGUP\n")
            lines.append(await reader.read())

        await one_session(ivr, pbx)
        return out, lines

    assert run_simulated(main()) == (["hangup"], ["ANSWER", b""])


def test_given_peer_closing_mid_command_then_agihangup_at_once():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            loop = asyncio.get_running_loop()
            start = loop.time()
            try:
                await agi.stream_file("hotline/menu")
            except AgiHangup:
                out.append(("hangup", loop.time() - start < 1, agi.hung_up))

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            await reader.readline()

        await one_session(ivr, pbx)
        return out

    assert run_simulated(main()) == [("hangup", True, True)]


def test_given_overlong_answer_line_then_the_session_ends():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            try:
                await agi.get_variable("X")
            except AgiCommandError as exc:
                out.append(str(exc))

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            await reader.readline()
            writer.write(b"200 result=1 (" + b"x" * (agi_protocol.MAX_LINE_BYTES + 10))
            out.append(await reader.read())

        await one_session(ivr, pbx)
        return out

    out = run_simulated(main())
    assert "longer than 8 KiB" in out[0] and out[1] == b""


def test_given_header_over_16k_even_with_its_end_then_refused():
    async def main():
        async def ivr(agi: AgiChannel) -> None:
            raise AssertionError("not to be served")

        async def pbx(reader, writer):
            big = "agi_network: yes\n" + "agi_x: " + "y" * agi_protocol.MAX_ENV_BYTES + "\n"
            writer.write((big + ENV.format(script="ivr")).encode())
            assert await reader.read() == b""

        server = await one_session(ivr, pbx)
        return server.status()

    status = run_simulated(main())
    assert status["bad_requests"] == 1 and status["sessions_served"] == 0


def test_given_two_commands_at_once_on_one_channel_then_the_second_is_refused():
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            first = asyncio.ensure_future(agi.get_variable("A"))
            await asyncio.sleep(0)
            try:
                await agi.get_variable("B")
            except RuntimeError:
                out.append("refused")
            out.append(await first)

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            assert "A" in await command_line(reader)
            writer.write(b"200 result=1 (a)\n")
            await reader.read()

        await one_session(ivr, pbx)
        return out

    assert run_simulated(main()) == ["refused", "a"]


def test_given_answers_to_no_command_then_ignored_and_logged_once(caplog):
    async def main():
        out: list = []

        async def ivr(agi: AgiChannel) -> None:
            await asyncio.sleep(1)
            out.append(await agi.get_variable("A"))

        async def pbx(reader, writer):
            writer.write(ENV.format(script="ivr").encode())
            writer.write(b"200 result=1 (stray)\n" * 3)
            await reader.readline()
            writer.write(b"200 result=1 (a)\n")
            await reader.read()

        await one_session(ivr, pbx)
        return out

    with caplog.at_level("WARNING", logger="pbx.fastagi"):
        assert run_simulated(main()) == ["a"]
    assert sum("answer to no command" in r.message for r in caplog.records) == 1


def test_given_a_flood_over_the_session_cap_then_all_counted_and_logged_once(caplog):
    async def main():
        gate = asyncio.Event()

        async def ivr(agi: AgiChannel) -> None:
            await gate.wait()

        server = FastAgiServer({"ivr": ivr}, ivr, host="127.0.0.1", port=0, max_sessions=1)
        await server.start()
        conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(21)]
        await asyncio.sleep(0.1)
        status = server.status()
        gate.set()
        for _r, w in conns:
            w.close()
        await server.close()
        return status

    with caplog.at_level("WARNING", logger="pbx.fastagi"):
        status = run_simulated(main())
    assert status["sessions_rejected"] == 20 and status["sessions_active"] == 1
    assert sum("session cap" in r.message for r in caplog.records) == 1
