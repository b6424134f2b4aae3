// JSON over HTTP to the backend, with the login cookie.  Failures throw an
// ApiError carrying the API's error code (and field), which views turn into
// words with errorText() from ui.js; a 401 tells the shell to show the login.
export class ApiError extends Error {
  constructor(status, code, message, field, body) {
    super(message || code);
    this.status = status; this.code = code; this.field = field; this.body = body;
  }
}

const unauthorised = new Set();
/** Call fn() whenever a request comes back 401 (the session ended). */
export function onLoggedOut(fn) { unauthorised.add(fn); return () => unauthorised.delete(fn); }
/** The session ended by another way (the live socket closed with 4401). */
export function loggedOut() { for (const fn of unauthorised) fn(); }

export async function api(path, { method = "GET", body, signal } = {}) {
  const init = { method, credentials: "same-origin", signal, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", String(err));
  }
  const text = await response.text();
  let data = {};
  if (text) {
    try { data = JSON.parse(text); } catch { data = { raw: text }; }
  }
  if (!response.ok) {
    const e = (data && typeof data.error === "object" && data.error) || {};
    if (response.status === 401) loggedOut();
    throw new ApiError(response.status, e.code || `http_${response.status}`, e.message, e.field, data);
  }
  return data;
}

export const get = (path, opts) => api(path, opts);
export const post = (path, body, opts) => api(path, { ...opts, method: "POST", body: body ?? {} });
export const put = (path, body, opts) => api(path, { ...opts, method: "PUT", body: body ?? {} });
export const patch = (path, body, opts) => api(path, { ...opts, method: "PATCH", body: body ?? {} });
export const del = (path, opts) => api(path, { ...opts, method: "DELETE" });

/** Query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}
