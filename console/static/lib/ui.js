// The view toolkit: Preact + htm (vendored), and the small formatting
// helpers every view uses.  Views import from here, never from vendor/.
import { h, render, Fragment } from "../vendor/preact.mjs";
import {
  useState, useEffect, useMemo, useRef, useCallback, useReducer,
} from "../vendor/preact-hooks.mjs";
import htm from "../vendor/htm.mjs";
import { t, lang } from "./i18n.js";
import * as live from "./live.js";

export const html = htm.bind(h);
export { h, render, Fragment, useState, useEffect, useMemo, useRef, useCallback, useReducer };

/** Seconds as m:ss or h:mm:ss. */
export function duration(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

/** An ISO date-time as local date and time, in the console's language. */
export function dateTime(iso, { date = true, time = true } = {}) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const opts = {};
  if (date) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
  if (time) Object.assign(opts, { hour: "2-digit", minute: "2-digit", hour12: false });
  return d.toLocaleString(lang(), opts);
}

/** 13800138000 -> 138****8000 (what logs and most screens show). */
export function maskPhone(number) {
  const s = String(number ?? "");
  if (s.length < 7) return s.replace(/.(?=.{2})/g, "*");
  return s.slice(0, 3) + "****" + s.slice(-4);
}

/** Seconds since an ISO time, re-rendered every second by the caller's component. */
export function secondsSince(iso, now = Date.now()) {
  return iso ? (now - new Date(iso).getTime()) / 1000 : null;
}

/** A hook: the current time, ticking every `ms` (for timers on screen). */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** A message line: an error (ApiError or string) or a notice, in words. */
export function Message({ error, notice }) {
  if (error) return html`<p class="msg bad" role="alert">${errorText(error)}</p>`;
  if (notice) return html`<p class="msg good" role="status">${notice}</p>`;
  return null;
}

/** An error in the console's language: the API's code through i18n. */
export function errorText(error) {
  if (typeof error === "string") return error;
  if (error && error.code) {
    const key = `error.${error.code}`;
    const words = t(key, error.params || {});
    if (words !== key) return error.field ? `${fieldName(error.field)}：${words}` : words;
  }
  // A code this console has no words for: English pages may show the
  // server's own message; Chinese pages say so with the code (the language
  // test fails on it, which is how a missing translation is found).
  if (lang() === "en" && error && error.message) return error.message;
  return t("error.unknown", { code: (error && error.code) || "?" });
}

function fieldName(field) {
  const key = `field.${field}`;
  const words = t(key);
  return words === key ? field : words;
}

/** A hook: call fn(event) for each live event of this type while mounted. */
export function useLiveEvent(type, fn) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.on(type, (event) => ref.current(event)), [type]);
}

/** A hook: the latest snapshot state from the live feed (or null). */
export function useSnapshot() {
  const [snap, setSnap] = useState(live.lastSnapshot());
  useEffect(() => live.onSnapshot(setSnap), []);
  return snap;
}

/** A hook: load(signal) now, again on resync (events missed) and when
 * reload() is called; returns {data, error, loading, reload}. */
export function useLoad(load, deps = []) {
  const [result, setResult] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => live.onResync(() => setTick((n) => n + 1)), []);
  useEffect(() => {
    const ctl = new AbortController();
    setResult((r) => ({ ...r, loading: true }));
    load(ctl.signal).then(
      (data) => { if (!ctl.signal.aborted) setResult({ data, error: null, loading: false }); },
      (error) => { if (!ctl.signal.aborted && error.name !== "AbortError") setResult({ data: null, error, loading: false }); },
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  return { ...result, reload: () => setTick((n) => n + 1) };
}
