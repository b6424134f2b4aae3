// The pop: who is calling, what they chose, how long they waited, their
// orders of the last 12 months, the open order they add to, the
// description transcript the moment it is ready, and knowledge-base
// suggestions from it.
import { html, duration, dateTime } from "../../lib/ui.js";
import { t, label } from "../../lib/i18n.js";
import { ArticleList } from "./kb.js";

function History({ rows, follows }) {
  if (!rows || !rows.length) return html`<p class="muted" data-testid="history-none">${t("pop.history_none")}</p>`;
  return html`<table data-testid="history"><thead><tr>
      <th>${t("col.number")}</th><th>${t("col.title")}</th><th>${t("col.status")}</th></tr></thead>
    <tbody>${rows.map((o) => html`<tr class=${follows && follows.id === o.id ? "chosen" : ""}>
      <td>${o.number}<br /><small class="muted">${label("category", o.category)}</small></td>
      <td>${o.title}<br /><small class="muted">${o.department || "–"}</small>
        ${o.reply ? html`<br /><small>${t("col.reply")}：${o.reply}</small>` : ""}</td>
      <td>${label("status", o.status)}${o.due_date ? html`<br /><small>${t("pop.due", { date: o.due_date })}</small>` : ""}</td>
    </tr>`)}</tbody></table>`;
}

function Transcript({ pop }) {
  const tr = pop.transcript;
  return html`<div class="transcript" data-testid="transcript">
    <h3>${t("pop.transcript")}</h3>
    ${tr && tr.text ? html`<p>${tr.text}</p>`
      : html`<p class="muted">${t("pop.transcript_none")}</p>`}
  </div>`;
}

export function Pop({ pop, onUseArticle, ended }) {
  const ringing = pop.phase === "ringing" && !ended;
  const legacy = pop.legacy_line;
  return html`<div class=${"card pop " + (ringing ? "ringing" : "answered")} data-testid="pop" data-phase=${pop.phase}>
    <div class="row">
      <span class=${"pill " + (ended ? "" : ringing ? "info" : "good")} data-testid="call-phase">
        ${ended ? t("pop.ended") : ringing ? t("pop.ringing") : t("pop.answered")}</span>
      <span class="big caller" data-testid="caller-number">${pop.caller_number}</span>
      <span data-testid="caller-name">${pop.caller_name || html`<span class="muted">${t("pop.unknown_name")}</span>`}</span>
      ${pop.vulnerable ? html`<span class="pill bad" data-testid="vulnerable">${t("pop.vulnerable")}${pop.vulnerable_reason
        ? "：" + label("vulnerable", pop.vulnerable_reason) : ""}</span>` : ""}
    </div>
    <div class="row muted">
      ${legacy ? html`<span>${t("pop.legacy", { number: legacy.number, department: legacy.department || "–" })}</span>`
        : html`<span>${t("pop.pressed")}：${label("ivr_choice", pop.ivr_choice)}</span>`}
      <span>${t("pop.queue")}：${label("queue", pop.queue)}</span>
      <span>${t("pop.waited", { time: duration(pop.waited_seconds) })}</span>
      ${pop.order ? html`<span>${t("col.number")}：${pop.order.number}</span>` : ""}
    </div>
    ${pop.follows_order ? html`<p class="warn" data-testid="follows">${t("pop.follows")}：
      ${pop.follows_order.number} ${pop.follows_order.title}（${label("status", pop.follows_order.status)}${pop.follows_order.due_date
        ? "，" + t("pop.due", { date: pop.follows_order.due_date }) : ""}）</p>` : ""}
    <${Transcript} pop=${pop} />
    ${pop.kb_suggestions && pop.kb_suggestions.length ? html`<div data-testid="kb-suggestions">
      <h3>${t("pop.kb")}</h3><${ArticleList} articles=${pop.kb_suggestions} onUse=${onUseArticle} /></div>` : ""}
    <h3>${t("pop.history")}</h3>
    <div class="history-box"><${History} rows=${pop.history} follows=${pop.follows_order} /></div>
    ${pop.entered_at ? html`<p class="muted small">${dateTime(pop.entered_at)}</p>` : ""}
  </div>`;
}
