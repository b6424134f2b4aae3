// The console's views: which roles see each, its tab, and its module
// (loaded when first opened).  A view module's default export is a Preact
// component called with { me } (GET /api/me).  Order = order of the tabs;
// each role opens on its first view.
export const VIEWS = [
  { id: "agent", roles: ["agent"], nav: "nav.agent", load: () => import("./agent.js") },
  { id: "floor", roles: ["supervisor", "admin"], nav: "nav.floor", load: () => import("./floor.js") },
  { id: "orders", roles: ["department", "supervisor", "admin"], nav: "nav.orders", load: () => import("./orders.js") },
  { id: "knowledge", roles: ["agent", "supervisor", "admin"], nav: "nav.knowledge", load: () => import("./knowledge.js") },
  { id: "reports", roles: ["supervisor", "admin", "department"], nav: "nav.reports", load: () => import("./reports.js") },
  { id: "admin", roles: ["admin"], nav: "nav.admin", load: () => import("./admin/index.js") },
  { id: "wallboard", roles: ["supervisor", "admin"], nav: "nav.wallboard", load: () => import("./wallboard.js"), bare: true },
];

/** Pages outside the single-page console, linked from the tabs. */
export const LINKS = [
  { href: "/rota.html", roles: ["agent", "supervisor", "admin"], nav: "nav.rota" },
];

export function viewsFor(role) { return VIEWS.filter((v) => v.roles.includes(role)); }
export function linksFor(role) { return LINKS.filter((l) => l.roles.includes(role)); }
