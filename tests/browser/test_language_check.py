"""The language check itself (no browser): what counts as English or a code."""

from __future__ import annotations

from tests.browser.language import foreign_words


def test_words_and_codes_are_found():
    text = "状态：draft 队列 hotline-help 坐席 agent-1024 错误 not_draft Ready"
    assert foreign_words(text) == ["draft", "hotline-help", "agent-1024", "not_draft", "Ready"]


def test_numbers_dates_order_numbers_and_device_names_are_not():
    text = ("工单 BJ20261205-0003 来电 138****8000 2026-12-05 21:03 等待 0:35 12345 "
            "话机 PJSIP/1001 English 导出 CSV XLSX")
    assert foreign_words(text) == []


def test_a_page_may_allow_more():
    assert foreign_words("接口 API", allow={"API"}) == []
