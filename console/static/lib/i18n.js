// Words for the console, in zh-CN (the default) and en.  Each view module
// registers its own with messages({ "zh-CN": {...}, en: {...} }) at import
// time, so views never collide over one big file.  Codes from the API
// (statuses, categories, roles, error codes) go through label(kind, code).
const LANGS = ["zh-CN", "en"];
const STORE = "hotline.lang";
const catalogs = { "zh-CN": {}, en: {} };
let current = LANGS.includes(localStorage.getItem(STORE)) ? localStorage.getItem(STORE) : "zh-CN";
const listeners = new Set();

export function lang() { return current; }
export function languages() { return LANGS; }

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  localStorage.setItem(STORE, next);
  document.documentElement.lang = next;
  for (const fn of listeners) fn(next);
}

/** Call fn(lang) whenever the language changes; returns an unsubscribe. */
export function onLangChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** Register words: {"zh-CN": {key: text}, en: {key: text}}.  Later wins. */
export function messages(dicts) {
  for (const [l, words] of Object.entries(dicts)) Object.assign(catalogs[l] ||= {}, words);
}

/** The words for key, with {name} replaced from params; the key itself when
 * neither language has it (the language test finds those). */
export function t(key, params = {}) {
  const text = catalogs[current][key] ?? catalogs["zh-CN"][key];
  if (text == null) return key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** A code from the API in words: label("status", "dispatched").  Unknown
 * codes come back as they are (and so fail the language test). */
export function label(kind, code) {
  if (code == null || code === "") return "–";
  const key = `${kind}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}

/** Has a word for this key (to choose between a label and a fallback). */
export function has(key) { return key in catalogs[current] || key in catalogs["zh-CN"]; }
