// The audit log: who changed what, when; searched by who, what and when.
import { html, useState, useLoad, Message, dateTime } from "../../lib/ui.js";
import { get, query } from "../../lib/api.js";
import { t, messages, has } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "audit.who": "操作人", "audit.action": "操作", "audit.target": "对象", "audit.text": "内容包含",
    "audit.from": "起", "audit.to": "止", "audit.search": "查询", "audit.at": "时间", "audit.detail": "详情",
    "audit.cli": "命令行", "audit.any": "全部操作",
    "audit.create": "新建", "audit.edit": "修改", "audit.deactivate": "停用", "audit.reactivate": "启用",
    "audit.subject.team": "班组", "audit.subject.agent": "坐席", "audit.subject.department": "承办单位",
    "audit.subject.line": "原热线号码", "audit.subject.user": "用户",
    "audit.act.user_disable": "停用账号", "audit.act.user_enable": "启用账号",
    "audit.act.user_logout_all": "强制下线", "audit.act.user_password_reset": "重置密码",
    "audit.act.block": "加入黑名单", "audit.act.unblock": "解除黑名单",
    "audit.act.priority_add": "登记优先来电", "audit.act.priority_remove": "移除优先来电",
    "audit.act.rules": "修改路由规则", "audit.act.calendar.load": "载入工作日历",
    "audit.act.pause_reason": "修改小休原因", "audit.act.kb_create": "新建知识", "audit.act.kb_edit": "修改知识",
    "audit.act.import_agents": "导入坐席", "audit.act.import_departments": "导入承办单位",
    "audit.act.import_lines": "导入原热线号码", "audit.act.import_agents_refused": "导入坐席（被拒）",
    "audit.act.import_departments_refused": "导入承办单位（被拒）", "audit.act.import_lines_refused": "导入原热线号码（被拒）",
  },
  en: {
    "audit.who": "Who", "audit.action": "Action", "audit.target": "Target", "audit.text": "Detail contains",
    "audit.from": "From", "audit.to": "To", "audit.search": "Search", "audit.at": "When", "audit.detail": "Detail",
    "audit.cli": "command line", "audit.any": "Any action",
    "audit.create": "created", "audit.edit": "changed", "audit.deactivate": "deactivated", "audit.reactivate": "reactivated",
    "audit.subject.team": "Team", "audit.subject.agent": "Agent", "audit.subject.department": "Department",
    "audit.subject.line": "Old hotline number", "audit.subject.user": "User",
    "audit.act.user_disable": "Login disabled", "audit.act.user_enable": "Login enabled",
    "audit.act.user_logout_all": "Logged out everywhere", "audit.act.user_password_reset": "Password reset",
    "audit.act.block": "Number blocked", "audit.act.unblock": "Block lifted",
    "audit.act.priority_add": "Priority caller added", "audit.act.priority_remove": "Priority caller removed",
    "audit.act.rules": "Routing rules changed", "audit.act.calendar.load": "Calendar loaded",
    "audit.act.pause_reason": "Pause reason changed", "audit.act.kb_create": "Article created", "audit.act.kb_edit": "Article changed",
    "audit.act.import_agents": "Agents imported", "audit.act.import_departments": "Departments imported",
    "audit.act.import_lines": "Lines imported", "audit.act.import_agents_refused": "Agents import refused",
    "audit.act.import_departments_refused": "Departments import refused", "audit.act.import_lines_refused": "Lines import refused",
  },
});

const SUBJECTS = ["team", "agent", "department", "line", "user"];
const VERBS = ["create", "edit", "deactivate", "reactivate"];

/** An action code in words; one this page does not know stays a code. */
function actionText(code) {
  if (has(`audit.act.${code}`)) return t(`audit.act.${code}`);
  const [subject, verb] = code.split(/_(?=[a-z]+$)/);
  if (SUBJECTS.includes(subject) && VERBS.includes(verb)) return `${t("audit.subject." + subject)}${t("audit.lang_gap")}${t("audit." + verb)}`;
  return html`<code>${code}</code>`;
}
messages({ "zh-CN": { "audit.lang_gap": "" }, en: { "audit.lang_gap": " " } });

const ACTIONS = [...SUBJECTS.flatMap((s) => VERBS.map((v) => `${s}_${v}`)), "user_disable", "user_enable",
  "user_logout_all", "user_password_reset", "import_", "block", "unblock", "priority_", "rules", "calendar.load",
  "pause_reason", "kb_"];

export default function Audit() {
  const [filters, setFilters] = useState({ who: "", action: "", target: "", text: "", from: "", to: "" });
  const [asked, setAsked] = useState(filters);
  const params = { ...asked, from: asked.from && new Date(asked.from).toISOString(), to: asked.to && new Date(asked.to).toISOString() };
  const list = useLoad((signal) => get("/api/audit" + query(params), { signal }), [JSON.stringify(asked)]);
  const rows = (list.data && list.data.entries) || [];
  const input = (name, type = "text") => html`<label class="field" style="width:150px"><span>${t("audit." + name)}</span>
    <input name=${name} type=${type} value=${filters[name]} onInput=${(e) => setFilters({ ...filters, [name]: e.target.value })} /></label>`;
  return html`<div data-testid="audit">
    <form class="card row" onSubmit=${(e) => { e.preventDefault(); setAsked(filters); }}>
      ${input("who")}
      <label class="field" style="width:190px"><span>${t("audit.action")}</span>
        <select name="action" value=${filters.action} onChange=${(e) => setFilters({ ...filters, action: e.target.value })}>
          <option value="">${t("audit.any")}</option>
          ${ACTIONS.map((a) => html`<option value=${a}>${a.endsWith("_") ? actionText(a + "agents") : actionText(a)}</option>`)}
        </select></label>
      ${input("target")}${input("text")}${input("from", "datetime-local")}${input("to", "datetime-local")}
      <button type="submit">${t("audit.search")}</button>
    </form>
    <${Message} error=${list.error} />
    <div class="card"><table>
      <thead><tr><th>${t("audit.at")}</th><th>${t("audit.who")}</th><th>${t("audit.action")}</th><th>${t("audit.target")}</th><th>${t("audit.detail")}</th></tr></thead>
      <tbody>${rows.map((e) => html`<tr><td>${dateTime(e.at)}</td><td>${e.username || t("audit.cli")}</td>
        <td>${actionText(e.action)}</td><td>${e.target}</td><td><small><code>${e.detail}</code></small></td></tr>`)}</tbody>
    </table></div>
  </div>`;
}
