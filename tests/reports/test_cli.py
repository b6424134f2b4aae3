"""`hotline reports refresh|rebuild|show` in-process."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.agents.test_cli import run
from tests.reports.test_rollup import DAY, _traffic


def test_refresh_rebuild_and_show(db, tmp_path, capsys, monkeypatch) -> None:
    db.call(lambda s: _traffic(s, 4))
    url = db.url
    first, last = DAY.isoformat(), (DAY + timedelta(days=2)).isoformat()
    code, out, _ = run(capsys, monkeypatch, url, tmp_path, "reports", "refresh")
    assert code == 0 and out.startswith("6 day roll-ups")
    code, out, _ = run(capsys, monkeypatch, url, tmp_path, "reports", "show", "--from", first,
                       "--to", last, "--dimension", "category", "--period", "month")
    shown = json.loads(out)
    assert code == 0 and sum(r["calls"] for r in shown["totals"]) == 60
    code, out, _ = run(capsys, monkeypatch, url, tmp_path, "reports", "rebuild", "--from", first,
                       "--to", last)
    assert code == 0 and out.startswith("3 days")
    code, out, _ = run(capsys, monkeypatch, url, tmp_path, "reports", "show", "--from", first,
                       "--to", last, "--dimension", "category", "--period", "month")
    assert json.loads(out)["totals"] == shown["totals"]
    code, _, err = run(capsys, monkeypatch, url, tmp_path, "reports", "show", "--dimension",
                       "team")
    assert code == 2 and "dimension is one of" in err
