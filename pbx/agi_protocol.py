"""The (Fast)AGI wire format, as pure functions.

Shared by our FastAGI server and the built-in PBX's AGI client.

Wire facts (see tests/fixtures/asterisk-22/*.agi-*.raw):
* the PBX opens with ``agi_key: value`` lines and an empty line;
* the server sends one command line; the PBX answers ``200 result=N [data]``,
  ``510 Invalid or unknown command``, ``511 Command Not Permitted on a dead
  channel or intercept routine`` or a multi-line ``520-...`` usage block;
* when the channel hangs up, the PBX sends a bare ``HANGUP`` line before the
  next result; commands after that get 511.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ENV_BYTES = 16 * 1024
MAX_LINE_BYTES = 8 * 1024

# Asterisk's channel Uniqueid: "<epoch>.<n>", or "<systemname>-<epoch>.<n>" when
# asterisk.conf sets systemname (main/channel_internal_api.c, __ast_channel_alloc_ap).
_UNIQUEID = re.compile(r"(?:[A-Za-z0-9_.-]{1,40}-)?\d{1,12}\.\d{1,10}")


def valid_uniqueid(value: str) -> bool:
    """True for a Uniqueid of the form Asterisk gives the channels it creates."""
    return _UNIQUEID.fullmatch(value) is not None


_RESULT = re.compile(r"^(?P<code>\d{3})(?P<sep>[ -])(?P<rest>.*)$")
_NEEDS_ESCAPE = re.compile(r'[\\"\r\n\x00]')
_RESULT_KV = re.compile(r"result=(?P<result>-?\d*)(?:\s+\((?P<data>[^)]*)\))?(?P<tail>.*)$")


class AgiProtocolError(ValueError):
    pass


class AgiEnvIncomplete(Exception):
    """More bytes are needed before the environment block is complete."""


def parse_env(buffer: bytes) -> tuple[dict[str, str], bytes]:
    """Parse the ``agi_*`` header block; return it and what follows.

    Raises :class:`AgiEnvIncomplete` when the block has not ended yet and
    :class:`AgiProtocolError` when the bytes cannot be an AGI environment.
    """
    end = buffer.find(b"\n\n")
    if end < 0:
        if len(buffer) > MAX_ENV_BYTES:
            raise AgiProtocolError("AGI environment larger than 16 KiB")
        raise AgiEnvIncomplete
    # Decoded as a whole: a "\n" byte is never inside a UTF-8 character.
    text = buffer[:end].decode("utf-8", errors="replace")
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    env: dict[str, str] = {}
    for line in lines:
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_"):
            raise AgiProtocolError(f"not an AGI environment line: {line[:60]!r}")
        env[key.strip()] = value[1:] if value[:1] == " " else value
    if "agi_request" not in env and "agi_network_script" not in env:
        raise AgiProtocolError("AGI environment without agi_request")
    return env, buffer[end + 2:]


def encode_env(env: dict[str, str]) -> bytes:
    lines = [f"{k}: {single_line(v)}" for k, v in env.items()]
    return ("\n".join(lines) + "\n\n").encode()


@dataclass(frozen=True)
class AgiResult:
    """A parsed command result.

    ``code`` 200 is success; ``result`` is the integer after ``result=``
    (None when empty, as GET DATA gives on timeout); ``data`` is the text in
    parentheses (``timeout``, ``hangup``, a variable's value); ``extra``
    holds trailing ``key=value`` pairs such as ``endpos``.
    """

    code: int
    result: int | None = None
    data: str | None = None
    extra: dict[str, str] | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def dead_channel(self) -> bool:
        return self.code == 511


def parse_result(line: str) -> AgiResult:
    """Parse one result line (the final line of a 520 block included)."""
    line = line.rstrip("\r\n")
    m = _RESULT.match(line)
    if not m:
        raise AgiProtocolError(f"not an AGI result: {line[:80]!r}")
    code = int(m.group("code"))
    rest = m.group("rest")
    if code != 200:
        return AgiResult(code=code, text=rest)
    kv = _RESULT_KV.search(rest)
    if not kv:
        return AgiResult(code=code, text=rest)
    raw = kv.group("result")
    extra: dict[str, str] = {}
    for item in kv.group("tail").split():
        k, sep, v = item.partition("=")
        if sep:
            extra[k] = v
    return AgiResult(
        code=code,
        result=int(raw) if raw not in ("", "-") else None,
        data=kv.group("data"),
        extra=extra or None,
        text=rest,
    )


def format_result(code: int, result: int | str | None = None, data: str | None = None,
                  **extra: object) -> bytes:
    """Build a result line as Asterisk writes it (for the built-in PBX)."""
    if code == 511:
        return b"511 Command Not Permitted on a dead channel or intercept routine\n"
    if code == 510:
        return b"510 Invalid or unknown command\n"
    if code != 200:
        return f"{code} {data or ''}\n".encode()
    text = f"200 result={'' if result is None else result}"
    if data is not None:
        text += f" ({single_line(data)})"
    for k, v in extra.items():
        text += f" {k}={v}"
    return (text + "\n").encode()


def single_line(value: object) -> str:
    return str(value).replace("\r", " ").replace("\n", " ").replace("\x00", "")


def quote(value: object) -> str:
    """Quote one command argument.

    Asterisk splits AGI command lines on spaces, honouring double quotes and
    backslash escapes; a CR or LF would end the command early and let the
    rest be read as a second command, so they become spaces.
    """
    text = value if type(value) is str else str(value)
    if _NEEDS_ESCAPE.search(text) is None:  # the usual case: nothing to change
        return f'"{text}"'
    text = single_line(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(*parts: object, quote_all: bool = False) -> bytes:
    """Build a command line.  The verb words are sent as they are; pass
    arguments that come from data through :func:`quote` (or quote_all)."""
    words = [quote(p) if quote_all else single_line(p) for p in parts]
    return (" ".join(words) + "\n").encode()


def split_command(line: str) -> list[str]:
    """Split a command line the way Asterisk's AGI parser does."""
    words: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    had_word = False
    for ch in line.rstrip("\r\n"):
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            had_word = True
            continue
        if ch == '"':
            in_quotes = not in_quotes
            had_word = True
            continue
        if ch == " " and not in_quotes:
            if had_word:
                words.append("".join(current))
                current, had_word = [], False
            continue
        current.append(ch)
        had_word = True
    if had_word:
        words.append("".join(current))
    return words
