// Logins: create (a password is generated when none is typed), change the
// name, role or link, disable / enable, log out everywhere, new password.
import { post, get, put } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";
import { messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "admin.new_password": "已保存，初始密码：{password}（请转告本人，只显示这一次）",
    "admin.end_sessions": "强制下线", "admin.reset_password": "重置密码",
    "admin.sessions_ended": "已结束 {n} 个会话", "admin.password_reset": "新密码：{password}（只显示这一次）",
    "admin.confirm_password": "为 {name} 生成新密码？其所有会话将结束",
    "admin.set_phone": "登记话机", "admin.phone_prompt": "{name} 的话机（如 PJSIP/9001；留空则清除）",
    "admin.phone_saved": "话机：{phone}", "admin.phone_cleared": "已清除话机",
    "error.taken": "该话机已被占用",
  },
  en: {
    "admin.new_password": "Saved; first password: {password} (tell its owner; shown only once)",
    "admin.end_sessions": "Log out everywhere", "admin.reset_password": "New password",
    "admin.sessions_ended": "{n} sessions ended", "admin.password_reset": "New password: {password} (shown only once)",
    "admin.confirm_password": "Make a new password for {name}? Every session of theirs ends",
    "admin.set_phone": "Phone", "admin.phone_prompt": "{name}'s phone (e.g. PJSIP/9001; empty clears it)",
    "admin.phone_saved": "Phone: {phone}", "admin.phone_cleared": "Phone cleared",
    "error.taken": "That phone is taken",
  },
});

const ROLES = ["agent", "supervisor", "department", "admin"];

export const USERS = {
  id: "users", api: "/api/users", key: "username",
  refs: async (signal) => {
    const [agents, departments] = await Promise.all([
      get("/api/admin/agents", { signal }), get("/api/admin/departments", { signal })]);
    return { agents: agents.agents, departments: departments.departments };
  },
  columns: [{ name: "username" }, { name: "display_name" },
    { name: "role", cell: (u) => label("role", u.role) },
    { name: "agent" }, { name: "department" }],
  fields: [{ name: "username", type: "text", fixed: true }, { name: "display_name", type: "text" },
    { name: "role", type: "select", choices: () => ROLES.map((r) => [r, label("role", r)]) },
    { name: "agent", type: "select",
      choices: (refs) => (refs.agents || []).filter((a) => a.active).map((a) => [a.number, `${a.number} ${a.name}`]) },
    { name: "department", type: "select",
      choices: (refs) => (refs.departments || []).filter((d) => d.active).map((d) => [d.code, d.name]) },
    { name: "password", type: "text", createOnly: true }],
  deactivate: (u) => post(`/api/users/${u.id}/disable`),
  reactivate: (u) => post(`/api/users/${u.id}/enable`),
  actions: [
    { words: () => t("admin.end_sessions"),
      run: async (u) => t("admin.sessions_ended", { n: (await post(`/api/users/${u.id}/end-sessions`)).sessions_ended }) },
    // A supervisor's own phone: rung for listen, whisper and barge (floor/http.py).
    { words: () => t("admin.set_phone"),
      run: async (u) => {
        const typed = prompt(t("admin.phone_prompt", { name: u.username }));
        if (typed === null) return null;
        const phone = typed.trim() || null;
        await put(`/api/users/${u.id}/phone`, { phone });
        return phone ? t("admin.phone_saved", { phone }) : t("admin.phone_cleared");
      } },
    { words: () => t("admin.reset_password"),
      run: async (u) => {
        if (!confirm(t("admin.confirm_password", { name: u.username }))) return null;
        return t("admin.password_reset", { password: (await post(`/api/users/${u.id}/password`)).password });
      } },
  ],
};
