"""Reports over HTTP: a supervisor's report per department sees the
orders written since the last refresh; a department login gets its own
department only, whatever it asks for; exports (CSV, XLSX) are audited;
bad requests answer an error code."""

from __future__ import annotations

import io

import openpyxl

from core.clock import run_simulated
from tests.console.test_http import login
from tests.console.test_lifecycle_http import NOW, seed_orders, with_backend
from tests.helpers import prepare_database, settings_for_test

DAY = "2026-11-30"


def test_reports_per_role_exports_audited(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    prepare_database(url, NOW)
    _, mine, other = seed_orders(url)  # three orders to the 'dept' user's department
    q = f"from={DAY}&to={DAY}"

    async def body(backend, http):
        sup, dept = await login(http, "sup"), await login(http, "dept")
        out = {}
        async with http.get(f"/api/reports?dimension=department&{q}", headers=sup) as r:
            out["sup"] = (r.status, await r.json())
        asked = f"/api/reports?dimension=department&key={other}&{q}"
        async with http.get(asked, headers=dept) as r:
            out["dept"] = (r.status, await r.json())
        async with http.get(f"/api/reports?dimension=team&{q}", headers=sup) as r:
            out["bad"] = (r.status, await r.json())
        async with http.get(f"/api/reports/export?dimension=category&period=month&{q}"
                            "&format=xlsx", headers=sup) as r:
            out["xlsx"] = (r.status, r.headers["Content-Type"], await r.read())
        async with http.get(f"/api/reports/export?{q}", headers=dept) as r:
            out["csv"] = (r.status, (await r.read()).decode("utf-8-sig"))
        async with http.get(f"/api/reports/export?{q}&format=pdf", headers=sup) as r:
            out["pdf"] = (r.status, await r.json())
        async with http.get("/api/audit", headers=await login(http, "admin")) as r:
            out["audit"] = (await r.json())["entries"]
        return out

    out = run_simulated(with_backend(settings_for_test(url, tmp_path), body))
    status, sup = out["sup"]
    assert status == 200 and [r["key"] for r in sup["totals"]] == [str(mine)]
    row = sup["totals"][0]
    assert (row["submitted"], row["closed"], row["completion_rate"]) == (3, 0, 0.0)
    assert row["below_target"] is True and row["label"] and row["label"] != str(mine)
    status, dept = out["dept"]
    assert status == 200 and dept["dimension"] == "department"
    assert [r["key"] for r in dept["totals"]] == [str(mine)]  # not the one asked for
    assert out["bad"] == (400, {"error": {"code": "bad_dimension", "message": out["bad"][1][
        "error"]["message"]}})
    status, kind, data = out["xlsx"]
    assert status == 200 and "spreadsheetml" in kind
    sheet = openpyxl.load_workbook(io.BytesIO(data))["报表"]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:4] == ("期间", "编码", "名称", "来电")
    # the seeded calls chose nothing in the IVR ("-"); their orders are help
    assert [(r[0], r[1]) for r in table[1:]] == [("2026-11-01", "-"), ("2026-11-01", "help")]
    status, text = out["csv"]
    assert status == 200 and text.splitlines()[0].startswith("期间,编码,名称")
    assert text.splitlines()[1].split(",")[1] == str(mine)
    assert out["pdf"][0] == 400 and out["pdf"][1]["error"]["code"] == "bad_format"
    exports = [e for e in out["audit"] if e["action"] == "export"]
    assert [e["target"] for e in exports] == [
        f"report-department-day-{DAY}-{DAY}", f"report-category-month-{DAY}-{DAY}"]
    assert exports[1]["detail"].startswith("xlsx, 2 rows")
