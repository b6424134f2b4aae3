"""The city's districts and counties (DOMAIN.md), recorded on every order.

Data, not code: Baoji's twelve, each with a short code (what the order
stores and the API takes) and its name, plus ``city`` (全市/市本级) for a
matter of the whole city (a policy question, a city-wide service), so
that every order names one.  The agent console reads them from GET
/api/districts (and agentapi's order form).
"""

from __future__ import annotations

DISTRICTS: tuple[tuple[str, str], ...] = (
    ("weibin", "渭滨区"), ("jintai", "金台区"), ("chencang", "陈仓区"), ("fengxiang", "凤翔区"),
    ("qishan", "岐山县"), ("fufeng", "扶风县"), ("meixian", "眉县"), ("longxian", "陇县"),
    ("qianyang", "千阳县"), ("linyou", "麟游县"), ("fengxian", "凤县"), ("taibai", "太白县"),
    ("city", "全市（市本级）"),
)
CODES: tuple[str, ...] = tuple(code for code, _ in DISTRICTS)
NAMES: dict[str, str] = dict(DISTRICTS)


def district_problem(value: object) -> str | None:
    """Why ``value`` is not a district code (None: it is one)."""
    if not isinstance(value, str) or not value.strip():
        return "choose the district (区县) the matter is in"
    if value not in NAMES:
        return f"{value!r} is not a district code: one of {', '.join(CODES)}"
    return None


def to_list() -> list[dict[str, str]]:
    return [{"code": code, "name": name} for code, name in DISTRICTS]
