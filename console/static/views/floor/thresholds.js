// The alert thresholds: what they are now (every floor follows the
// floor.thresholds events) and a form to change them (stored for every
// instance; each bad field named under its input).
import { html, useState, Message } from "../../lib/ui.js";
import { put } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";
import { problemsOf } from "../admin/words.js";
import { pct } from "./state.js";

// [name, shown as value * scale]: the target is a fraction, typed in percent.
const FIELDS = [["long_wait_seconds", 1], ["service_level_target", 100],
                ["service_level_min_offered", 1], ["draft_minutes", 1]];
const SCALE = Object.fromEntries(FIELDS);

function shown(value, scale) {
  return value == null ? "" : String(Math.round(value * scale * 100) / 100);
}

function problemWords(p) {
  const params = { ...(p.params || {}) };
  const scale = SCALE[p.field] || 1;
  for (const k of ["low", "high"]) if (typeof params[k] === "number") params[k] = shown(params[k], scale);
  return t(`problem.${p.code}`, params);
}

export function Thresholds({ thresholds }) {
  const [form, setForm] = useState(null);  // the values typed, while editing
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const problems = problemsOf(error);
  function edit() {
    setSaved(false); setError(null);
    setForm(Object.fromEntries(FIELDS.map(([name, scale]) => [name, shown(thresholds[name], scale)])));
  }
  async function save(e) {
    e.preventDefault();
    setError(null);
    const body = Object.fromEntries(FIELDS.map(([name, scale]) => {
      const raw = form[name].trim(), n = Number(raw);
      return [name, raw === "" || Number.isNaN(n) ? raw : Math.round(n / scale * 10000) / 10000];
    }));
    try {
      await put("/api/floor/thresholds", body);
      setForm(null); setSaved(true);
    } catch (err) { setError(err); }
  }
  return html`<div class="card floor-thresholds" data-version=${thresholds.version ?? ""}>
    <div class="row"><h2>${t("floor.th.title")}</h2><span class="spacer"></span>
      ${form ? null : html`<button class="ghost" data-act="thresholds" onClick=${edit}>${t("floor.th.edit")}</button>`}</div>
    <p data-field="summary">${t("floor.th.summary", {
      wait: thresholds.long_wait_seconds, target: pct(thresholds.service_level_target),
      offered: thresholds.service_level_min_offered, draft: thresholds.draft_minutes })}</p>
    ${saved ? html`<${Message} notice=${t("floor.th.saved")} />` : null}
    ${form ? html`<form class="thresholds-form" onSubmit=${save}>
      ${FIELDS.map(([name]) => {
        const mine = problems.filter((p) => p.field === name);
        return html`<label class=${"field" + (mine.length ? " invalid" : "")}>
          <span>${t(`floor.th.${name}`)}</span>
          <input name=${name} inputmode="decimal" value=${form[name]}
            onInput=${(e) => setForm({ ...form, [name]: e.target.value })} />
          ${mine.map((p) => html`<small class="bad" role="alert">${problemWords(p)}</small>`)}
        </label>`;
      })}
      ${error && !problems.length ? html`<${Message} error=${error} />` : null}
      <div class="row"><button type="submit" data-act="save-thresholds">${t("floor.th.save")}</button>
        <button type="button" class="ghost" onClick=${() => { setForm(null); setError(null); }}>${t("floor.th.cancel")}</button></div>
    </form>` : null}
  </div>`;
}
