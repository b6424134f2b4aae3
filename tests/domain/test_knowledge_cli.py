"""`hotline kb import` and `hotline kb search` in-process, on both databases."""

from __future__ import annotations

import json

from core.db import Database
from hotline.migrate import upgrade
from hotline.seed import seed_demo_city
from tests.agents.test_cli import run
from tests.domain.conftest import SEEDED_AT


def test_import_reports_bad_rows_by_line_then_imports_and_search_finds(
        database_url, tmp_path, capsys, monkeypatch) -> None:
    db = Database(database_url)
    upgrade(db.engine)
    db.call(lambda s: seed_demo_city(s, SEEDED_AT))
    db.close()
    bad = tmp_path / "kb.csv"
    bad.write_text("ref,category,department,title,answer,valid_until,keywords\n"
                   "C-1,市政设施,CGJ,桥下积水,雨后桥下积水请派城管,2099-12-31,积水;排水\n"
                   "C-2,市政设施,CGJ,路灯,,2099-13-01,\n", encoding="utf-8")
    code, out, err = run(capsys, monkeypatch, database_url, tmp_path, "kb", "import", str(bad))
    assert code == 1 and out == ""
    assert err.splitlines() == [f"{bad}:3: valid_until '2099-13-01' is not a date YYYY-MM-DD",
                                "1 bad row(s); nothing imported"]
    code, out, _ = run(capsys, monkeypatch, database_url, tmp_path, "kb", "search", "积水")
    assert code == 0 and "0 article(s)" in out  # nothing of the file went in

    bad.write_text(bad.read_text(encoding="utf-8").splitlines()[0] + "\n"
                   + bad.read_text(encoding="utf-8").splitlines()[1] + "\n", encoding="utf-8")
    code, out, _ = run(capsys, monkeypatch, database_url, tmp_path, "kb", "import", str(bad))
    assert code == 0 and "1 new, 0 updated, 0 unchanged" in out
    code, out, _ = run(capsys, monkeypatch, database_url, tmp_path, "kb", "search",
                       "桥下积水怎么办", "--json")
    found = json.loads(out)
    assert code == 0 and found["terms"][:2] == ["桥下", "积水"]
    assert found["articles"][0]["title"] == "桥下积水"
    assert found["articles"][0]["department"] == "宝鸡市城市管理执法局"
    code, out, _ = run(capsys, monkeypatch, database_url, tmp_path, "kb", "search", "社保卡丢了",
                       "--include-hidden")  # the starter article's end date is no concern here
    assert code == 0 and "社保卡丢失如何补办" in out.splitlines()[2]
