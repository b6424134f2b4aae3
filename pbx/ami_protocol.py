"""The Asterisk Manager Interface wire format, as pure functions.

No sockets, no clock: ``parse(buffer) -> (messages, rest)`` and
``encode(name, headers) -> bytes``.  Used by our AMI client, by the built-in
PBX's AMI server and by ``hotline ami replay``.

Wire facts (see tests/fixtures/asterisk-22):
* a message is ``Key: Value`` lines ending in CRLF, closed by an empty line;
* the first thing the server sends is the banner line
  ``Asterisk Call Manager/11.0.0`` with no blank line after it;
* keys may repeat (``Variable:`` in actions, ``ChanVariable`` in events);
* text is UTF-8, and a TCP read may split a character, so bytes are only
  decoded once a whole message has arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

EOL = b"\r\n"
END = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
MAX_MESSAGE_BYTES = 1 << 20  # a single message larger than this is garbage


class AmiProtocolError(ValueError):
    """Bytes that cannot be AMI, or a value that must not be sent."""


@dataclass
class AmiMessage:
    """One AMI message: an event, a response or an action.

    Header names are matched case-insensitively, as Asterisk does.
    ``headers`` keeps every pair in wire order, repeats included.
    """

    headers: list[tuple[str, str]] = field(default_factory=list)
    # Wall-clock epoch milliseconds when the AMI link read it off the socket
    # (events only; 0: not stamped).  For latency measurements, not logic.
    read_ms: float = field(default=0.0, compare=False)

    @classmethod
    def of(cls, pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> AmiMessage:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        return cls([(str(k), str(v)) for k, v in items])

    def get(self, key: str, default: str | None = None) -> str | None:
        key = key.lower()
        for k, v in self.headers:
            if k.lower() == key:
                return v
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def getall(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self.headers if k.lower() == key]

    def as_dict(self) -> dict[str, str]:
        """First value of each header (repeats dropped)."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            out.setdefault(k, v)
        return out

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action(self) -> str | None:
        return self.get("Action")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def is_event(self) -> bool:
        return self.event is not None

    def variables(self) -> dict[str, str]:
        """``Variable: NAME=value`` headers of an action, as a dict.

        As manager.c does, a header is split on commas (``A=1,B=2``) and
        pieces without ``=`` are dropped: ``X=a,s,1`` sets X to ``a``.
        """
        out: dict[str, str] = {}
        for item in self.getall("Variable"):
            for part in item.split(","):
                name, sep, value = part.partition("=")
                if name and sep:
                    out[name.strip()] = value
        return out


def _decode(raw: bytes) -> AmiMessage:
    text = raw.decode("utf-8", errors="replace")
    headers: list[tuple[str, str]] = []
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            # Output lines of old-style `Command` responses have no colon;
            # keep them rather than lose them.
            headers.append(("Output", line))
            continue
        headers.append((key.strip(), value[1:] if value.startswith(" ") else value))
    return AmiMessage(headers)


def parse(buffer: bytes) -> tuple[list[AmiMessage], bytes]:
    """Split complete messages off the front of ``buffer``.

    Returns the messages and the unconsumed remainder (an incomplete
    message, possibly ending inside a multi-byte character).  The banner
    line, if present at the front, is returned as a message with the single
    header ``Banner``.  Raises :class:`AmiProtocolError` when a message,
    finished or not, is larger than ``MAX_MESSAGE_BYTES``.
    """
    messages: list[AmiMessage] = []
    pos = 0
    if buffer.startswith(BANNER_PREFIX):
        eol = buffer.find(EOL)
        if eol < 0:
            return messages, buffer
        messages.append(AmiMessage([("Banner", buffer[:eol].decode("utf-8", "replace"))]))
        pos = eol + 2
    while True:
        # Tolerate stray blank lines between messages.
        while buffer.startswith(EOL, pos):
            pos += 2
        end = buffer.find(END, pos)
        if end < 0:
            break
        if end - pos > MAX_MESSAGE_BYTES:  # whether its end came in this read or not
            raise AmiProtocolError(f"message larger than {MAX_MESSAGE_BYTES} bytes")
        messages.append(_decode(buffer[pos:end]))
        pos = end + 4
    rest = buffer[pos:]
    if len(rest) > MAX_MESSAGE_BYTES:
        raise AmiProtocolError(f"message larger than {MAX_MESSAGE_BYTES} bytes")
    return messages, rest


def iter_transcript_received(data: bytes) -> Iterator[bytes]:
    """The server-to-client bytes of a fixture transcript (SENT blocks removed)."""
    marker_start = b"\n>>>> SENT >>>>\n"
    marker_end = b"<<<< END SENT <<<<\n"
    pos = 0
    while True:
        start = data.find(marker_start, pos)
        if start < 0:
            tail = data[pos:]
            eof = tail.find(b"\n#### ")  # the recorder's end-of-stream note
            yield tail if eof < 0 else tail[:eof]
            return
        yield data[pos:start]
        end = data.find(marker_end, start)
        if end < 0:
            return
        pos = end + len(marker_end)


def iter_transcript_sent(data: bytes) -> Iterator[bytes]:
    """The client-to-server blocks of a fixture transcript, one per SENT block."""
    marker_start = b"\n>>>> SENT >>>>\n"
    marker_end = b"<<<< END SENT <<<<\n"
    pos = 0
    while True:
        start = data.find(marker_start, pos)
        if start < 0:
            return
        end = data.find(marker_end, start)
        if end < 0:
            return
        yield data[start + len(marker_start):end]
        pos = end + len(marker_end)


def check_value(name: str, value: str) -> str:
    """Refuse a header name or value that would break out of its line.

    A CR or LF inside a value would end the header and let the rest be read
    as new headers (header injection); a NUL confuses Asterisk's parser.
    We reject rather than silently rewrite: the caller decides what a
    sanitised value should be.
    """
    for ch in ("\r", "\n", "\x00"):
        if ch in value or ch in name:
            raise AmiProtocolError(f"AMI header {name!r} contains a line break or NUL")
    if not name or ":" in name or name != name.strip():
        raise AmiProtocolError(f"bad AMI header name {name!r}")
    return value


def encode(message: AmiMessage | Mapping[str, object] | Iterable[tuple[str, object]]) -> bytes:
    """Serialise an action, response or event.

    Values that are lists produce repeated headers (``Variable``).
    """
    if isinstance(message, AmiMessage):
        pairs: Iterable[tuple[str, object]] = message.headers
    elif isinstance(message, Mapping):
        pairs = message.items()
    else:
        pairs = message
    lines: list[bytes] = []
    for key, value in pairs:
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            text = "" if item is None else str(item)
            check_value(key, text)
            lines.append(f"{key}: {text}".encode())
    return EOL.join(lines) + END


def sanitize_value(value: str, limit: int = 200) -> str:
    """A printable, single-line version of an untrusted value (caller IDs)."""
    cleaned = "".join(" " if ch in "\r\n\x00\t" else ch for ch in value)
    return cleaned[:limit]
