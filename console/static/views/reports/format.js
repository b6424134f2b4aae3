// Numbers on the report pages.
export const pct = (x) => (x == null ? "–" : `${Math.round(x * 1000) / 10}%`);
export const num = (x) => (x == null ? "–" : String(x));
export const secs = (x) => (x == null ? "–" : String(Math.round(x)));
