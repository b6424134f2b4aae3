"""Staffing from demand (Erlang C per hour against the rota) and the rota's
CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from agents import demand, erlang, export, rota
from agents.roster import load_roster
from calls.models import Call

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 10)
CONFIG = rota.RotaConfig(min_on_duty=5)


def add_history(db, *, per_day: dict[int, int], days: int, talk: int) -> None:
    """``per_day[h]`` answered calls queued in local hour h on each of the ``days`` before DAY."""
    def work(s):
        n = 0
        for d in range(1, days + 1):
            for hour, count in per_day.items():
                start = datetime.combine(DAY - timedelta(days=d), time(hour), TZ)
                for k in range(count):
                    at = start + timedelta(seconds=k * 3600 // count)
                    n += 1
                    s.add(Call(uniqueid=f"hist-{n}", entered_at=at, queued_at=at,
                               outcome="answered", queue="hotline-help", talk_seconds=talk))
        # A call of the day itself and one that never reached a queue do not count.
        s.add(Call(uniqueid="today", entered_at=datetime.combine(DAY, time(10), TZ),
                   queued_at=datetime.combine(DAY, time(10), TZ), outcome="answered",
                   talk_seconds=9999))
        s.add(Call(uniqueid="ivr", entered_at=datetime.combine(DAY - timedelta(days=1),
                                                               time(10), TZ),
                   outcome="ivr_hangup"))
    db.call(work)


def test_erlang_c_against_published_values() -> None:
    # Classic textbook values: A = 1 erlang, 2 agents: a caller waits with
    # probability 1/3; A = 10: the published table (see tests/domain/test_erlang.py).
    assert erlang.erlang_c(1, 2) == pytest.approx(1 / 3, abs=1e-12)
    assert erlang.erlang_c(1, 3) == pytest.approx(1 / 11, abs=1e-12)
    assert erlang.erlang_c(10, 15) == pytest.approx(0.1020, abs=5e-5)
    assert erlang.erlang_c(10, 14) == pytest.approx(0.1741, abs=5e-5)


def test_given_a_week_of_history_then_needed_agents_and_gap_per_hour(db) -> None:
    # 200 calls an hour at 10:00 and 20 at 03:00, talk 170 s + 10 s wrap-up = 180 s AHT.
    add_history(db, per_day={10: 200, 3: 20}, days=7, talk=170)

    def work(s):
        need = demand.demand_from_history(s, DAY, TZ, weeks=1, wrapup_seconds=10)
        roster = load_roster(s, CONFIG, DAY - timedelta(days=1), DAY)
        return need, demand.hourly_staffing(need, roster, DAY, target_seconds=15,
                                            service_level=0.9)

    need, hours = db.call(work)
    assert need.aht_seconds == pytest.approx(180) and need.answered == 7 * 220
    assert need.calls_per_hour[10] == pytest.approx(200) and need.calls_per_hour[3] == 20
    ten, three, noon = hours[10], hours[3], hours[12]
    # 10 erlangs: 14 agents answer 82.6 % within 15 s, 15 agents 90.9 % (table Pw 0.1020).
    assert ten.traffic_erlangs == pytest.approx(10) and ten.needed == 15
    assert erlang.service_level(200, 180, 14, 15) < 0.9 <= erlang.service_level(200, 180, 15, 15)
    # 1 erlang: 2 agents give 1 - (1/3) e^(-1/12) = 69 %; 3 give 1 - (1/11) e^(-1/6) = 92 %.
    assert three.needed == 3
    assert (ten.rostered, ten.gap) == (7, -8) and (three.rostered, three.gap) == (7, 4)
    assert (noon.calls, noon.needed, noon.gap) == (0, 0, 7)
    report = demand.staffing_report(need, hours, target_seconds=15, service_level=0.9)
    assert report["short_hours"] == [datetime.combine(DAY, time(10)).isoformat()]


def test_given_no_history_then_default_handle_time_and_nobody_needed(db) -> None:
    need = db.call(lambda s: demand.demand_from_history(s, DAY, TZ))
    assert need.aht_seconds == demand.DEFAULT_AHT_SECONDS and sum(need.calls_per_hour) == 0


def test_given_two_days_then_csv_and_xlsx_hold_every_shift_with_its_agents(db) -> None:
    rows = db.call(lambda s: export.rota_rows(s, CONFIG, DAY, 2))
    assert len(rows) == 8 and all(r["count"] == 7 and not r["short"] for r in rows)
    first = rows[0]
    team = rota.team_for(CONFIG, DAY, 0)
    assert first["team_indexes"] == [team] and first["start"] == "2026-12-10T00:00"

    data = export.to_csv(rows)
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(export.HEADINGS) and len(table) == 9
    assert table[1][:6] == ["2026-12-10", "周四", "1", "00:00", "06:00", first["team"]]
    assert first["agents"][0]["name"] in table[1][6] and table[1][7] == "7"

    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rows)))
    assert book.sheetnames == ["排班表"]
    cells = [list(r) for r in book["排班表"].iter_rows(values_only=True)]
    assert cells[0] == list(export.HEADINGS) and len(cells) == 9
    # same cells as the CSV, numbers as numbers
    assert [["" if v is None else str(v) for v in r] for r in cells[1:]] == table[1:]
    assert cells[1][7] == 7


def test_given_formula_like_text_then_xlsx_keeps_it_a_string_and_csv_neutralises_it() -> None:
    from core import spreadsheet

    rows = [["=HYPERLINK(\"http://x\")", "+1", 3]]
    book = openpyxl.load_workbook(io.BytesIO(spreadsheet.to_xlsx("s", ["a", "b", "c"], rows)))
    cells = list(book["s"].iter_rows(min_row=2))[0]
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert cells[0].value == "=HYPERLINK(\"http://x\")"
    text = spreadsheet.to_csv(["a", "b", "c"], rows).decode("utf-8-sig")
    assert text.splitlines()[1] == "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,3"
