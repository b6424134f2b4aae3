"""The language check: a zh-CN page shows no English word and no raw code.

Reusable by every view's browser test::

    from tests.browser.language import assert_chinese
    assert_chinese(page)                       # the whole visible page
    assert_chinese(page, allow={"PJSIP/1001"}) # plus words this page may show

What is read: the rendered text (``innerText``: what is visible), the page
title, placeholders, ``title`` and ``aria-label`` attributes and the text of
every option of every select (a closed list still offers its words).  A
"word" is a run of Latin letters (with digits, ``_``, ``-``, ``.`` or ``/``
inside it): English words and codes such as ``draft``, ``hotline-help``,
``agent-1024`` or ``not_draft`` all are.  Numbers, dates, times, masked
phone numbers and order numbers (``BJ20261205-0003``) are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# What a Chinese page may show in Latin letters (the allow-list).
ALLOWED = frozenset({
    "English",   # the language switch's own label
    "12345",     # the hotline's name (digits, listed for clarity)
    "CSV", "XLSX",
    # Keyboard keys, named as printed on them (shortcut hints).
    "Ctrl", "Enter", "Esc", "Alt", "Shift", "Tab",
    *(f"F{n}" for n in range(1, 13)),
})
# Patterns allowed everywhere: SIP device names and order numbers.
ALLOWED_PATTERNS = (
    re.compile(r"^(PJSIP|SIP|IAX2|Local)/[\w.@-]+$"),
    re.compile(r"^[A-Z]{2}\d{8}-\d{4}$"),
)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./@-]*[A-Za-z0-9]|[A-Za-z]")

_TEXT_JS = """() => {
  const parts = [document.title, document.body ? document.body.innerText : ""];
  for (const el of document.querySelectorAll("[placeholder],[title],[aria-label]")) {
    if (el.closest("[hidden], .hidden")) continue;
    for (const a of ["placeholder", "title", "aria-label"]) {
      const v = el.getAttribute(a); if (v) parts.push(v);
    }
  }
  for (const o of document.querySelectorAll("select option")) parts.push(o.textContent);
  return parts.join("\\n");
}"""


def page_text(page: Any) -> str:
    """Every word a user of the page can read (see the module's docstring)."""
    return getattr(page, "page", page).evaluate(_TEXT_JS)


def foreign_words(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The Latin-letter words in ``text`` not on the allow-list, in order, once each."""
    allowed = ALLOWED | set(allow)
    found: list[str] = []
    for match in WORD.finditer(text):
        word = match.group(0)
        if word in allowed or any(p.match(word) for p in ALLOWED_PATTERNS):
            continue
        if word not in found:
            found.append(word)
    return found


def assert_chinese(page: Any, allow: Iterable[str] = (), where: str = "") -> None:
    """Fail, naming each word and its line, when the page shows English or codes."""
    text = page_text(page)
    words = foreign_words(text, allow)
    if words:
        lines = [line for line in text.splitlines() if any(w in line for w in words)]
        raise AssertionError(
            f"English words or raw codes on the zh-CN page{' ' + where if where else ''}: "
            f"{words}\nin:\n" + "\n".join(lines[:20]))
