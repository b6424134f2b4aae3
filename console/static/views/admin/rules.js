// The routing rules as JSON, checked as the admin types: the JSON's syntax
// at once, then the API's own check (POST /api/routing/rules/check) after a
// pause in typing; saved (PUT, audited) only when both pass.
import { html, useState, useEffect, useRef, useLoad, Message } from "../../lib/ui.js";
import { get, post, put } from "../../lib/api.js";
import { t, messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "rules.hint": "路由规则（JSON）：溢出时间、按时段转队列、可回拨号码、回电与优先设置。输入时自动检查，通过后才能保存。",
    "rules.checking": "正在检查…", "rules.valid": "检查通过，可以保存", "rules.saved": "已保存并立即生效",
    "rules.syntax": "JSON 格式错误（第 {line} 行附近）", "rules.syntax_any": "JSON 格式错误",
    "rules.problems": "规则有 {n} 处问题：", "rules.reset": "还原为当前生效的规则",
  },
  en: {
    "rules.hint": "Routing rules (JSON): overflow times, time-of-day queues, numbers callbacks may dial, callback and priority settings. Checked as you type; saved only when valid.",
    "rules.checking": "Checking…", "rules.valid": "Valid; ready to save", "rules.saved": "Saved; in force now",
    "rules.syntax": "JSON syntax error (near line {line})", "rules.syntax_any": "JSON syntax error",
    "rules.problems": "{n} problems in the rules:", "rules.reset": "Back to the rules in force",
  },
});

function syntaxLine(text, err) {
  const m = /position (\d+)/.exec(err.message) || /line (\d+)/.exec(err.message);
  if (!m) return null;
  if (/line/.test(m[0])) return Number(m[1]);
  return text.slice(0, Number(m[1])).split("\n").length;
}

export default function Rules() {
  const current = useLoad((signal) => get("/api/routing/rules", { signal }));
  const [text, setText] = useState(null);
  const [state, setState] = useState({ kind: "idle" });
  const [notice, setNotice] = useState(null);
  const timer = useRef(null);
  useEffect(() => {
    if (current.data && text === null) setText(JSON.stringify(current.data.rules, null, 2));
  }, [current.data]);
  function edit(next) {
    setText(next); setNotice(null);
    clearTimeout(timer.current);
    let rules;
    try { rules = JSON.parse(next); } catch (err) {
      setState({ kind: "syntax", line: syntaxLine(next, err) });
      return;
    }
    setState({ kind: "checking" });
    timer.current = setTimeout(async () => {
      try { await post("/api/routing/rules/check", { rules }); setState({ kind: "valid", rules }); }
      catch (err) { setState({ kind: "invalid", problems: (err.body && err.body.error && err.body.error.problems) || [], error: err }); }
    }, 400);
  }
  useEffect(() => () => clearTimeout(timer.current), []);
  async function save() {
    try { await put("/api/routing/rules", { rules: state.rules }); setNotice(t("rules.saved")); current.reload(); }
    catch (err) { setState({ kind: "invalid", problems: (err.body && err.body.error && err.body.error.problems) || [], error: err }); }
  }
  return html`<div class="card" data-testid="rules">
    <p class="muted">${t("rules.hint")}</p>
    <${Message} error=${current.error} notice=${notice} />
    <textarea name="rules" spellcheck="false" style="min-height:360px;font-family:monospace"
      value=${text ?? ""} onInput=${(e) => edit(e.target.value)} />
    <div data-testid="rules-state">
      ${state.kind === "syntax" ? html`<p class="msg bad">${state.line ? t("rules.syntax", { line: state.line }) : t("rules.syntax_any")}</p>` : null}
      ${state.kind === "checking" ? html`<p class="msg muted">${t("rules.checking")}</p>` : null}
      ${state.kind === "valid" ? html`<p class="msg good">${t("rules.valid")}</p>` : null}
      ${state.kind === "invalid" ? html`<div class="bad" role="alert"><p>${t("rules.problems", { n: state.problems.length })}</p>
        <ul>${state.problems.map((p) => html`<li><code>${p}</code></li>`)}</ul></div>` : null}
    </div>
    <div class="row">
      <button type="button" disabled=${state.kind !== "valid"} onClick=${save}>${t("admin.save")}</button>
      <button type="button" class="ghost" onClick=${() => current.data && edit(JSON.stringify(current.data.rules, null, 2))}>${t("rules.reset")}</button>
    </div>
  </div>`;
}
