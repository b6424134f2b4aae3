// The configs of the four administered kinds shown by records.js.
import { html } from "../../lib/ui.js";
import { get } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

const CATEGORIES = ["help", "complaint", "report", "consult", "suggest"];

export const TEAMS = {
  id: "teams", api: "/api/admin/teams", key: "code",
  columns: [{ name: "code" }, { name: "name" }, { name: "rota_index" }, { name: "agents" }],
  fields: [{ name: "code", type: "text" }, { name: "name", type: "text" },
    { name: "rota_index", type: "number" }],
};

export const AGENTS = {
  id: "agents", api: "/api/admin/agents", key: "number", importable: true,
  refs: async (signal) => ({ teams: (await get("/api/admin/teams", { signal })).teams }),
  columns: [{ name: "number" }, { name: "name" },
    { name: "team", cell: (a, refs) => {
      const team = (refs.teams || []).find((x) => x.code === a.team);
      return team ? `${a.team} ${team.name}` : a.team ?? "–";
    } }, { name: "phone" },
    { name: "skills", cell: (a) => html`<small>${a.skills
      .split(",").filter(Boolean).map((s) => { const [c, p] = s.split(":"); return `${label("category", c)}:${p}`; })
      .join("，")}</small>` }],
  fields: [{ name: "number", type: "text" }, { name: "name", type: "text" },
    { name: "team", type: "select", optional: false,
      choices: (refs) => (refs.teams || []).filter((x) => x.active).map((x) => [x.code, `${x.code} ${x.name}`]) },
    { name: "phone", type: "text" }, { name: "skills", type: "text" }],
};

export const DEPARTMENTS = {
  id: "departments", api: "/api/admin/departments", key: "code", importable: true,
  refs: async (signal) => ({ users: (await get("/api/users", { signal })).users }),
  columns: [{ name: "code" }, { name: "name" }, { name: "contact_name" }, { name: "contact_phone" },
    { name: "leader", cell: (d) => d.staff.map((u) => html`<span class=${"pill" + (u.leader ? " info" : "")}
        title=${u.leader ? t("admin.leader") : t("admin.staff")}>${u.display_name}</span> `) }],
  fields: [{ name: "code", type: "text" }, { name: "name", type: "text" },
    { name: "contact_name", type: "text" }, { name: "contact_phone", type: "text" },
    { name: "leader", type: "select",
      choices: (refs, row) => (refs.users || []).filter((u) => u.role === "department" && row
        && u.department_id === row.id).map((u) => [u.username, `${u.display_name}（${u.username}）`]) }],
};

export const LINES = {
  id: "lines", api: "/api/admin/lines", key: "number", importable: true,
  refs: async (signal) => ({ departments: (await get("/api/admin/departments", { signal })).departments }),
  columns: [{ name: "number" }, { name: "label" },
    { name: "kind", cell: (l) => html`<span class=${"pill" + (l.kind === "dual" ? " info" : "")}>${t("admin.line_kind." + l.kind)}</span>` },
    { name: "category", cell: (l) => label("category", l.category) }, { name: "department" },
    { name: "calls", cell: (l) => t("admin.calls", { recent: l.calls_30_days, total: l.calls_total }) },
    { name: "note" }],
  fields: [{ name: "number", type: "text" }, { name: "label", type: "text" },
    { name: "kind", type: "select", optional: false,
      choices: () => ["dual", "merged", "special"].map((k) => [k, t("admin.line_kind." + k)]) },
    { name: "category", type: "select", choices: () => CATEGORIES.map((c) => [c, label("category", c)]) },
    { name: "department", type: "select",
      choices: (refs) => (refs.departments || []).filter((d) => d.active).map((d) => [d.code, d.name]) },
    { name: "note", type: "text" }],
};
