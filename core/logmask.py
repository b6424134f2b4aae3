"""Masking of citizens' phone numbers in logs (138****8000)."""

from __future__ import annotations

import logging
import re

# Mainland mobiles (1[3-9] + 9 digits) and landlines with an area code
# (0917 + 7-8 digits).  Not Uniqueids ("1795945068.1": 10 digits, a dot).
_NUMBER = re.compile(r"(?<![\d.])(1[3-9]\d|0\d{2,3})(\d{3,4})(\d{4})(?![\d.]?\d)")


def mask_number(number: str | None) -> str:
    """Mask the middle of a phone number: 13800138000 -> 138****8000.

    Short numbers (extensions, 12345, 110) are left alone; anything that is
    not digits keeps its non-digit characters.
    """
    if not number:
        return ""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 7:
        return number
    return digits[:3] + "****" + digits[-4:]


# A number written with a country prefix or punctuation: +86 138-0013-8000,
# 0086 13800138000, (0917) 321-2345.  Not a Uniqueid (a dot), not part of a word.
_WRITTEN = re.compile(r"(?<![\w.*])(?:\+|00)?\d[\d \-()]{5,22}\d(?![\d*]|\.\d)")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")


def _mask_written(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = "".join(ch for ch in text if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            digits = digits[len(prefix):]
            break
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits[:3] + "****" + digits[-4:]
    return text


def mask_text(text: str) -> str:
    """Every mobile or long-distance number in ``text``, masked."""
    text = _NUMBER.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return _WRITTEN.sub(_mask_written, text)


class MaskingFilter(logging.Filter):
    """Masks what looks like a mobile or long-distance landline number in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = ()
        return True


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record: the message, and numbers inside an
    exception's traceback or its repr, which a filter never sees."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every migration step at INFO; `hotline migrate` says the result.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
