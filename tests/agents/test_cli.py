"""`hotline rota ...` in-process against a seeded database."""

from __future__ import annotations

import json

from hotline.cli import main


def run(capsys, monkeypatch, url, tmp_path, *argv):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_generate_check_config_and_export(seeded_url, tmp_path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, seeded_url, tmp_path, "rota", "generate", "--start",
                       "2026-12-10", "--days", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["pattern"] == "0,1,2,3,-,-" and len(data["shifts"]) == 8
    assert [s["count"] for s in data["shifts"]] == [7] * 8
    code, out, _ = run(capsys, monkeypatch, seeded_url, tmp_path, "rota", "check", "--start",
                       "2026-12-10", "--days", "56")
    assert code == 0 and out == ""
    code, _, err = run(capsys, monkeypatch, seeded_url, tmp_path, "rota", "config",
                       "--pattern", "0,1,2,-,-,-")
    assert code == 2 and "hours without a team" in err
    code, out, _ = run(capsys, monkeypatch, seeded_url, tmp_path, "rota", "config",
                       "--min-on-duty", "8")
    assert code == 0 and json.loads(out)["min_on_duty"] == 8
    code, out, _ = run(capsys, monkeypatch, seeded_url, tmp_path, "rota", "check", "--start",
                       "2026-12-10", "--days", "1")
    assert code == 1 and out.splitlines()[0] == "short: 2026-12-10 00:00 (7 of 8 agents)"
    target = tmp_path / "rota.xlsx"
    code, out, _ = run(capsys, monkeypatch, seeded_url, tmp_path, "rota", "export", "--start",
                       "2026-12-10", "--days", "7", "--format", "xlsx", "--out", str(target))
    assert code == 0 and "28 shifts" in out and target.read_bytes()[:2] == b"PK"


def test_generate_without_a_schema_falls_back_to_the_default_rota(tmp_path, capsys,
                                                                  monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out, err = run(capsys, monkeypatch, url, tmp_path, "rota", "generate", "--start",
                         "2026-01-01", "--days", "1")
    assert code == 0 and "hotline migrate" in err
    assert out.splitlines()[0].startswith("2026-01-01 周四  00:00-06:00  team 0")
