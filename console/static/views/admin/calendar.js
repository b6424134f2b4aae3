// The working calendar (ported from the old page's calendar panel): the
// years with the State Council's arrangement, and loading a new year.
import { html, useState, useLoad, Message, dateTime } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import { t, messages } from "../../lib/i18n.js";
import { CalendarYear, warnings } from "../calendar/year.js";

messages({
  "zh-CN": {
    "cal.title": "工作日历（法定节假日安排）", "cal.years": "已载入年份：{years}",
    "cal.hint": "国务院办公厅发布新一年放假安排后，在此载入（holidays_cn.json 格式）。载入后各实例立即生效，按“周一至周五”暂计时限的在办工单自动重算。",
    "cal.load": "载入", "cal.not_json": "不是合法的 JSON", "cal.refused": "未载入：",
    "cal.loaded": "已载入 {years}（版本 {version}），重算 {n} 张在办工单时限",
    "cal.stored": "{year} 年：{source}（版本 {version}，{at} 载入）",
  },
  en: {
    "cal.title": "Working calendar (public holidays)", "cal.years": "Years loaded: {years}",
    "cal.hint": "When the State Council publishes next year's arrangement, load it here (holidays_cn.json format). Every instance uses it at once; open orders counted on Monday-Friday are recomputed.",
    "cal.load": "Load", "cal.not_json": "Not valid JSON", "cal.refused": "Not loaded:",
    "cal.loaded": "Loaded {years} (version {version}); {n} open orders' deadlines recomputed",
    "cal.stored": "{year}: {source} (version {version}, loaded {at})",
  },
});

export default function Calendar() {
  const cal = useLoad((signal) => get("/api/calendar", { signal }));
  const [text, setText] = useState("");
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  async function load() {
    setResult(null); setError(null);
    let body;
    try { body = JSON.parse(text); } catch { setError(t("cal.not_json")); return; }
    try { setResult(await post("/api/calendar/years", body)); cal.reload(); } catch (err) { setError(err); }
  }
  const years = (cal.data && cal.data.years) || [];
  const problems = (error && error.body && error.body.error && error.body.error.problems) || [];
  return html`<div class="card" data-testid="calendar"><h2>${t("cal.title")}</h2>
    ${warnings(years).map((w) => html`<p class="bad"><b>⚠ ${w}</b></p>`)}
    <p>${t("cal.years", { years: years.join("、") || "–" })}</p>
    <ul>${((cal.data && cal.data.stored) || []).map((s) => html`<li>${t("cal.stored", { ...s, at: dateTime(s.loaded_at) })}</li>`)}</ul>
    <p class="muted"><small>${t("cal.hint")}</small></p>
    <input type="file" accept="application/json,.json" onChange=${async (e) => { const f = e.target.files[0]; if (f) setText(await f.text()); }} />
    <textarea name="calendar" rows="5" value=${text} onInput=${(e) => setText(e.target.value)}
      placeholder='{"years": [{"year": 2027, "source": "…", "holidays": [...], "workdays": [...]}]}' />
    <div class="row"><button type="button" onClick=${load}>${t("cal.load")}</button></div>
    ${problems.length ? html`<div class="bad" role="alert"><p>${t("cal.refused")}</p><ul>${problems.map((p) => html`<li><code>${p}</code></li>`)}</ul></div>`
      : html`<${Message} error=${error || cal.error} />`}
    ${result ? html`<p class="msg good" role="status">${t("cal.loaded", { years: result.years.join("、"), version: result.version, n: result.recomputed.length })}</p>` : null}
    ${cal.data ? html`<${CalendarYear} years=${years} warn=${false} key=${years.join()} />` : null}
  </div>`;
}
