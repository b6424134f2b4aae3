"""The demo's departments and duty supervisor: they work the orders through
the REST API as their staff do in the console (签收, 办结, 退回, 延期;
deciding extensions, dispatching returned orders again)."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import aiohttp

from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

REPLIES = ["已安排人员现场处理，问题已解决。", "经核实已整改到位，已向市民说明情况。",
           "已协调相关单位处理完毕。", "已按政策向市民作出解释，市民表示理解。"]
RETURN_REASONS = ["不属于本单位职责范围，建议转交通运输局。", "地址不在本辖区，请重新派单。"]


async def api_session(base_url: str, username: str, password: str) -> aiohttp.ClientSession:
    """An HTTP session logged in as ``username`` (bearer token), as the console's."""
    http = aiohttp.ClientSession(base_url=base_url)
    async with http.post("/api/login", json={"username": username,
                                             "password": password}) as r:
        if r.status != 200:
            await http.close()
            r.raise_for_status()
        token = (await r.json())["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


class Desk:
    """One login working a work list now and then."""

    def __init__(self, base_url: str, username: str, password: str, rng: random.Random,
                 every: tuple[float, float] = (30.0, 120.0)) -> None:
        self.base_url, self.username, self.password = base_url, username, password
        self.rng, self.every = rng, every
        self._http: aiohttp.ClientSession | None = None
        self.task: asyncio.Task[None] | None = None
        self.done = 0

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = await api_session(self.base_url, self.username, self.password)
        return self._http

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"desk-{self.username}")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(*self.every))
            try:
                await self.work(await self._session())
            except aiohttp.ClientError as exc:
                log.warning("%s: %s", self.username, exc)

    async def work(self, http: aiohttp.ClientSession) -> None:
        raise NotImplementedError

    async def post(self, http: aiohttp.ClientSession, order_id: int, step: str,
                   body: dict[str, Any] | None = None) -> bool:
        async with http.post(f"/api/work-orders/{order_id}/{step}", json=body or {}) as r:
            if r.status == 200:
                self.done += 1
                return True
            log.info("%s: %s on order %s refused: %s", self.username, step, order_id,
                     await r.text())
            return False

    async def close(self) -> None:
        await cancel_and_wait([self.task])
        if self._http is not None:
            await self._http.close()


class DepartmentDesk(Desk):
    """A department's staffer: signs for new orders, answers most of them,
    sends a few back, asks for more time on some complex ones."""

    async def work(self, http: aiohttp.ClientSession) -> None:
        async with http.get("/api/worklists/department") as r:
            orders = (await r.json()).get("work_orders", []) if r.status == 200 else []
        for order in orders:
            oid, roll = order["id"], self.rng.random()
            if order["status"] == "dispatched":
                if roll < 0.05 and not order["returns"]:
                    await self.post(http, oid, "return", {"reason": self.rng.choice(
                        RETURN_REASONS)})
                else:
                    await self.post(http, oid, "accept")
            elif order["complexity"] == "complex" and order["deadline_days"] == 5 \
                    and order["extension_days"] is None and roll < 0.2:
                await self.post(http, oid, "extension", {
                    "days": self.rng.randint(2, 5), "reason": "需多部门联合处理，申请延期。"})
            elif roll < 0.5:
                await self.post(http, oid, "reply", {"reply": self.rng.choice(REPLIES)})


class SupervisorDesk(Desk):
    """The duty supervisor: decides extension requests, reviews answers
    (统一答复), dispatches returned orders to another department."""

    def __init__(self, *args: Any, departments: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.departments = departments

    async def work(self, http: aiohttp.ClientSession) -> None:
        async with http.get("/api/worklists/extensions") as r:
            asked = (await r.json()).get("work_orders", []) if r.status == 200 else []
        for order in asked:
            approve = self.rng.random() < 0.8
            await self.post(http, order["id"], "extension/decision", {
                "approve": approve, "note": "同意延期" if approve else "请按原时限办理"})
        async with http.get("/api/worklists/returned") as r:
            returned = (await r.json()).get("work_orders", []) if r.status == 200 else []
        async with http.get("/api/worklists/review") as r:
            answered = (await r.json()).get("work_orders", []) if r.status == 200 else []
        for order in answered:  # 统一答复: most answers stand, a few go back
            if self.rng.random() < 0.9:
                await self.post(http, order["id"], "review", {"accept": True})
            else:
                await self.post(http, order["id"], "review", {
                    "accept": False, "reason": "答复内容不完整，请补充处理结果。"})
        for order in returned:
            others = [d for d in self.departments if d != order["department_id"]]
            if others:
                await self.post(http, order["id"], "redispatch", {
                    "department_id": self.rng.choice(others), "note": "按退回意见改派"})
