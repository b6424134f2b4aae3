// The order form: prefilled from the call, district and department (with
// the suggested one), validation that names the field, the 10-minute
// countdown from the answer, "answered on the call" for a consultation, and
// closing a call that needs no order with its reason.
import { html, useState, useEffect, useRef, useNow, duration, Message } from "../../lib/ui.js";
import { post } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

const CATEGORIES = ["help", "complaint", "report", "consult", "suggest"];

function blank(pop) {
  const category = CATEGORIES.includes(pop.category) ? pop.category : "";
  return { title: "", description: (pop.transcript && pop.transcript.text) || "", category,
           complexity: "ordinary", district: "", address: "", department_id: "", on_call: false,
           kb: null };
}

/** The fields a submission lacks, by their API names. */
export function missingFields(f) {
  const out = [];
  if (!f.title.trim()) out.push("title");
  if (!f.category) out.push("category");
  if (f.category === "help" && !f.complexity) out.push("complexity");
  if (!f.district) out.push("district");
  const onCall = f.on_call && f.category === "consult";
  if (!onCall && !f.department_id) out.push("department_id");
  return out;
}

function Field({ name, bad, children, wide }) {
  return html`<label class=${"field" + (bad.includes(name) ? " invalid" : "") + (wide ? " wide" : "")} data-field=${name}>
    <span>${t("field." + name)}${bad.includes(name) ? html` <b class="bad">${t("form.required")}</b>` : ""}</span>${children}</label>`;
}

function Countdown({ pop, serverNow }) {
  useNow(1000);
  if (!pop.submit_by) return null;
  const left = (Date.parse(pop.submit_by) - serverNow()) / 1000;
  return left >= 0
    ? html`<span class=${"pill " + (left < 120 ? "warn" : "info")} data-testid="countdown">${t("form.countdown", { time: duration(left) })}</span>`
    : html`<span class="pill bad" data-testid="countdown">${t("form.overdue", { time: duration(-left) })}</span>`;
}

function NoOrder({ order, reasons, onDone }) {
  const [reason, setReason] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  async function close(e) {
    e.preventDefault();
    if (!reason) { setError({ code: "missing", field: "reason" }); return; }
    try {
      const closed = await post(`/api/work-orders/${order.id}/close-no-order`, { reason, note });
      onDone({ ...closed, no_order_reason: closed.no_order_reason || reason });
    }
    catch (err) { setError(err); }
  }
  return html`<details class="no-order" data-testid="no-order"><summary>${t("form.no_order")}</summary>
    <form class="row" onSubmit=${close}>
      <select value=${reason} onChange=${(e) => setReason(e.target.value)} aria-label=${t("form.no_order_reason")} style="width:auto">
        <option value="">${t("form.no_order_reason")}</option>
        ${reasons.map((r) => html`<option value=${r}>${label("no_order_reason", r)}</option>`)}
      </select>
      <input value=${note} onInput=${(e) => setNote(e.target.value)} placeholder=${t("form.no_order_note")} style="flex:1;width:auto" />
      <button class="secondary" type="submit">${t("form.no_order_submit")}</button>
    </form>
    <${Message} error=${error} />
  </details>`;
}

export function OrderForm({ pop, meta, serverNow, submitRef, onDone, chosenArticle, clearArticle }) {
  const order = pop.order;
  const [f, setF] = useState(() => blank(pop));
  const [bad, setBad] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [suggested, setSuggested] = useState([]);
  const touchedDept = useRef(false);
  const set = (name) => (e) => {
    const value = e.target.type === "checkbox" ? e.target.checked : e.target.value;
    setF((old) => ({ ...old, [name]: value }));
    setBad((b) => b.filter((x) => x !== name));
    if (name === "department_id") touchedDept.current = true;
  };
  // The description transcript lands in an empty description.
  const said = pop.transcript && pop.transcript.text;
  useEffect(() => { if (said) setF((old) => (old.description ? old : { ...old, description: said })); }, [said]);
  // An article chosen: a consultation answered from it is answered on the call.
  useEffect(() => { setF((old) => ({ ...old, kb: chosenArticle, on_call: chosenArticle && old.category === "consult" ? true : old.on_call })); }, [chosenArticle]);
  // The department suggested for category, district and words.
  useEffect(() => {
    if (!f.category || !f.district) return;
    let gone = false;
    post("/api/department-suggestions", { category: f.category, district: f.district,
      title: f.title, description: f.description }).then((r) => {
      if (gone) return;
      setSuggested(r.suggestions || []);
      if (!touchedDept.current && r.suggestions && r.suggestions.length) {
        setF((old) => ({ ...old, department_id: String(r.suggestions[0].department_id) }));
      }
    }, () => { if (!gone) setSuggested([]); });
    return () => { gone = true; };
  }, [f.category, f.district]);

  const onCall = f.on_call && f.category === "consult";
  async function submit(e) {
    if (e) e.preventDefault();
    if (busy) return;
    const missing = missingFields(f);
    setBad(missing);
    if (missing.length) { setError({ missing }); return; }
    setBusy(true); setError(null);
    try {
      const body = { title: f.title.trim(), description: f.description, category: f.category,
        complexity: f.category === "help" ? f.complexity : null, district: f.district,
        address: f.address.trim(), department_id: onCall ? null : Number(f.department_id),
        answered_on_call: onCall, kb_article_id: f.kb ? f.kb.id : null };
      onDone(await post(`/api/work-orders/${order.id}/submit`, body));
    } catch (err) {
      if (err.field) setBad([err.field]);
      setError(err);
    } finally { setBusy(false); }
  }
  submitRef.current = submit;
  const departments = meta.departments || [];
  const suggestion = suggested[0];

  return html`<form class="card order-form" data-testid="order-form" onSubmit=${submit} novalidate>
    <div class="row"><h2>${t("form.title", { number: order.number })}</h2><span class="spacer"></span>
      <${Countdown} pop=${pop} serverNow=${serverNow} /></div>
    <div class="form-grid">
      <${Field} name="title" bad=${bad} wide><input name="title" maxlength="200" value=${f.title} onInput=${set("title")} /><//>
      <${Field} name="category" bad=${bad}><select name="category" value=${f.category} onChange=${set("category")}>
        <option value="">${t("form.choose")}</option>
        ${CATEGORIES.map((c) => html`<option value=${c}>${label("category", c)}</option>`)}</select><//>
      ${f.category === "help" ? html`<${Field} name="complexity" bad=${bad}><select name="complexity" value=${f.complexity} onChange=${set("complexity")}>
        ${(meta.complexities || ["ordinary", "complex"]).map((c) => html`<option value=${c}>${label("complexity", c)}</option>`)}</select><//>` : ""}
      <${Field} name="district" bad=${bad}><select name="district" value=${f.district} onChange=${set("district")}>
        <option value="">${t("form.choose")}</option>
        ${(meta.districts || []).map((d) => html`<option value=${d.code}>${d.name}</option>`)}</select><//>
      <${Field} name="address" bad=${bad}><input name="address" maxlength="200" value=${f.address} onInput=${set("address")} /><//>
      <${Field} name="department_id" bad=${bad}><select name="department_id" value=${f.department_id} onChange=${set("department_id")} disabled=${onCall}>
        <option value="">${t("form.choose")}</option>
        ${departments.map((d) => html`<option value=${String(d.id)}>${d.name}</option>`)}</select>
        ${suggestion ? html`<small class="muted" data-testid="suggested">${t("form.suggested", { name: suggestion.name })}</small>` : ""}<//>
      <${Field} name="description" bad=${bad} wide><textarea name="description" rows="3" value=${f.description} onInput=${set("description")}></textarea><//>
    </div>
    ${f.category === "consult" ? html`<label class="row"><input type="checkbox" name="answered_on_call" checked=${f.on_call} onChange=${set("on_call")} /> ${t("form.on_call")}</label>` : ""}
    ${f.kb ? html`<p class="muted">${t("form.kb_used", { title: f.kb.title })} <button type="button" class="ghost" onClick=${clearArticle}>${t("form.kb_clear")}</button></p>` : ""}
    <div class="row">
      <button type="submit" disabled=${busy} data-testid="submit">${onCall ? t("form.submit_close") : t("form.submit")} <kbd>Ctrl</kbd>+<kbd>Enter</kbd></button>
    </div>
    ${error && error.missing
      ? html`<p class="msg bad" role="alert">${t("form.check", { fields: error.missing.map((m) => t("field." + m)).join("、") })}</p>`
      : html`<${Message} error=${error} />`}
    <${NoOrder} order=${order} reasons=${meta.no_order_reasons || []} onDone=${onDone} />
  </form>`;
}

/** The submitted order's confirmation: stays on screen until the next call. */
export function Confirmation({ confirmation, onDismiss }) {
  const c = confirmation;
  const text = c.status === "no_order" ? t("form.done_no_order", { number: c.number, reason: label("no_order_reason", c.no_order_reason) })
    : c.status === "closed" ? t("form.done_closed", { number: c.number })
    : t("form.done_dispatched", { number: c.number, due: c.due_date || "–" });
  return html`<div class="card confirmation" role="status" data-testid="confirmation">
    <div class="row"><b class="good big-ok">✓</b><span class="confirm-text">${text}</span><span class="spacer"></span>
      <button class="ghost" onClick=${onDismiss}>${t("form.dismiss")}</button></div>
  </div>`;
}
