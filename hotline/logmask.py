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


class MaskingFilter(logging.Filter):
    """Masks what looks like a mobile or long-distance landline number."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = _NUMBER.sub(lambda m: m.group(1) + "****" + m.group(3), message)
        if masked != message:
            record.msg = masked
            record.args = ()
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every migration step at INFO; `hotline migrate` says the result.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
