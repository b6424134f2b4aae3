// The administration's words (zh-CN and en): field names, the codes of the
// problems the admin API names (admin/fields.py MESSAGES), labels.
import { messages, t } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "admin.tab.users": "用户", "admin.tab.teams": "班组", "admin.tab.agents": "坐席",
    "admin.tab.departments": "承办单位", "admin.tab.lines": "原热线号码",
    "admin.tab.rules": "路由规则", "admin.tab.pauses": "小休原因", "admin.tab.lists": "黑名单与优先来电",
    "admin.tab.calendar": "工作日历", "admin.tab.audit": "操作日志",
    "admin.new": "新建", "admin.edit": "修改", "admin.save": "保存", "admin.cancel": "取消",
    "admin.deactivate": "停用", "admin.reactivate": "启用", "admin.active": "在用",
    "admin.inactive": "已停用", "admin.saved": "已保存", "admin.deactivated": "已停用",
    "admin.confirm_deactivate": "确定停用 {name}？", "admin.show_inactive": "显示已停用",
    "admin.import": "从文件导入", "admin.import_hint": "CSV（UTF-8 或 GBK）或 XLSX，第一行为列名",
    "admin.import_columns": "；列名（或对应中文列名）：", "admin.dry_run": "只检查，不导入", "admin.import_ok": "已导入：新建 {created}，修改 {changed}，未变 {unchanged}",
    "admin.import_checked": "检查通过：将新建 {created}，修改 {changed}，未变 {unchanged}（未写入）",
    "admin.import_bad": "{bad} 行有误，整个文件未导入：", "admin.line": "第 {line} 行",
    "admin.count": "共 {n} 条", "admin.none": "暂无",
    "admin.kind.team": "班组", "admin.kind.agent": "坐席", "admin.kind.department": "单位",
    "admin.kind.user": "用户", "admin.kind.line": "号码",
    "admin.line_kind.dual": "双轨运行", "admin.line_kind.merged": "已并入（停用）",
    "admin.line_kind.special": "专线（转介）",
    "admin.calls": "来电：近30天 {recent}，累计 {total}", "admin.staff": "工作人员",
    "admin.leader": "负责人",
    "field.code": "代码", "field.name": "名称", "field.rota_index": "轮转位置",
    "field.active": "状态", "field.number": "号码", "field.team": "班组", "field.phone": "话机",
    "field.skills": "技能（类别:优先级）", "field.contact_name": "联系人",
    "field.contact_phone": "联系电话", "field.leader": "负责人", "field.label": "名称",
    "field.kind": "类型", "field.category": "类别", "field.department": "承办单位",
    "field.note": "备注", "field.username": "用户名", "field.display_name": "姓名",
    "field.role": "角色", "field.agent": "坐席工号", "field.password": "密码",
    "field.agents": "坐席数", "field.calls": "来电",
    "problem.required": "必填", "problem.not_text": "应为文字", "problem.too_long": "最多 {max} 个字符",
    "problem.bad_digits": "应为 {min}-{max} 位数字", "problem.bad_code": "只能是字母和数字",
    "problem.bad_department_code": "只能是字母、数字、_ 或 -",
    "problem.bad_username": "只能是字母、数字、-、_ 或 .",
    "problem.exists": "{what} {value} 已存在", "problem.choice": "应为以下之一：{options}",
    "problem.not_integer": "应为整数", "problem.range": "应在 {low} 到 {high} 之间",
    "problem.not_boolean": "应为是或否", "problem.phone_chars": "只能是数字（空格、-、+ 和括号会被忽略）",
    "problem.phone_length": "应为 3 到 20 位数字", "problem.no_such": "没有{what} {value}",
    "problem.deactivated": "{what} {value} 已停用",
    "problem.skill_category": "{value} 不是类别（应为 {options}）",
    "problem.skill_twice": "{value} 重复", "problem.skill_penalty": "{value}：优先级应为 0 到 99 的整数",
    "problem.not_pjsip": "应为 PJSIP 话机，例如 PJSIP/1001",
    "problem.endpoint_name": "话机名：1-40 个字母、数字、_、.、+ 或 -",
    "problem.unknown_field": "没有字段 {value}", "problem.fixed": "创建后不能修改",
    "problem.rota_place_taken": "班组 {other} 已在轮转位置 {value}",
    "problem.team_has_agents": "班组 {value} 还有 {count} 名在用坐席，请先调到其他班组",
    "problem.phone_taken": "{value} 已是坐席 {other} 的话机",
    "problem.leader_not_staff": "负责人必须是本单位的账号（角色为承办单位并关联本单位）",
    "problem.department_has_orders": "{value} 还有 {count} 张在办工单，请先改派",
    "problem.department_has_lines": "号码 {lines} 仍转入 {value}，请先改派或停用",
    "problem.line_needs_category": "双轨运行的号码需要来电类别",
    "problem.line_needs_department": "双轨运行的号码需要承办单位",
    "problem.agent_link_role": "只有话务员账号可关联坐席",
    "problem.department_link_role": "只有承办单位账号可关联单位",
    "problem.agent_has_login": "该坐席已有账号 {other}",
    "problem.leads_department": "{value} 是 {other} 的负责人，请先指定其他负责人",
    "problem.already_inactive": "{what} {value} 已停用", "problem.no_deactivation": "不能在此停用",
    "problem.password": "密码至少 8 个字符", "problem.no_column": "没有这一列",
    "problem.stray_cell": "单元格不在任何列下", "problem.key_required": "必填（用来识别记录）",
    "problem.duplicate_key": "{value} 与第 {line} 行重复",
    "error.invalid_rules": "路由规则有误", "error.bad_file": "无法读取文件",
    "error.bad_content_type": "文件类型不对（CSV 或 XLSX）", "error.too_large": "文件太大",
  },
  en: {
    "admin.tab.users": "Users", "admin.tab.teams": "Teams", "admin.tab.agents": "Agents",
    "admin.tab.departments": "Departments", "admin.tab.lines": "Old hotline numbers",
    "admin.tab.rules": "Routing rules", "admin.tab.pauses": "Pause reasons", "admin.tab.lists": "Block & priority lists",
    "admin.tab.calendar": "Working calendar", "admin.tab.audit": "Audit log",
    "admin.new": "New", "admin.edit": "Edit", "admin.save": "Save", "admin.cancel": "Cancel",
    "admin.deactivate": "Deactivate", "admin.reactivate": "Reactivate", "admin.active": "In use",
    "admin.inactive": "Deactivated", "admin.saved": "Saved", "admin.deactivated": "Deactivated",
    "admin.confirm_deactivate": "Deactivate {name}?", "admin.show_inactive": "Show deactivated",
    "admin.import": "Import from a file", "admin.import_hint": "CSV (UTF-8 or GBK) or XLSX; the first row names the columns",
    "admin.import_columns": "; columns (or their Chinese names): ", "admin.dry_run": "Check only", "admin.import_ok": "Imported: {created} new, {changed} changed, {unchanged} unchanged",
    "admin.import_checked": "Checked: would create {created}, change {changed}, leave {unchanged} (nothing written)",
    "admin.import_bad": "{bad} rows are bad; nothing was imported:", "admin.line": "line {line}",
    "admin.count": "{n} in all", "admin.none": "None",
    "admin.kind.team": "team", "admin.kind.agent": "agent", "admin.kind.department": "department",
    "admin.kind.user": "user", "admin.kind.line": "line",
    "admin.line_kind.dual": "Dual-track", "admin.line_kind.merged": "Merged (retired)",
    "admin.line_kind.special": "Special line (referral)",
    "admin.calls": "Calls: {recent} in 30 days, {total} in all", "admin.staff": "Staff",
    "admin.leader": "Leader",
    "field.code": "Code", "field.name": "Name", "field.rota_index": "Rota place",
    "field.active": "Status", "field.number": "Number", "field.team": "Team", "field.phone": "Phone",
    "field.skills": "Skills (category:penalty)", "field.contact_name": "Contact",
    "field.contact_phone": "Contact phone", "field.leader": "Leader", "field.label": "Name",
    "field.kind": "Kind", "field.category": "Category", "field.department": "Department",
    "field.note": "Note", "field.username": "User name", "field.display_name": "Full name",
    "field.role": "Role", "field.agent": "Agent number", "field.password": "Password",
    "field.agents": "Agents", "field.calls": "Calls",
    "problem.required": "is required", "problem.not_text": "must be text", "problem.too_long": "at most {max} characters",
    "problem.bad_digits": "{min}-{max} digits", "problem.bad_code": "letters and digits",
    "problem.bad_department_code": "letters, digits, _ or -",
    "problem.bad_username": "letters, digits, -, _ or .",
    "problem.exists": "{what} {value} already exists", "problem.choice": "one of {options}",
    "problem.not_integer": "a whole number", "problem.range": "from {low} to {high}",
    "problem.not_boolean": "yes or no", "problem.phone_chars": "digits only (spaces, -, + and brackets are ignored)",
    "problem.phone_length": "3 to 20 digits", "problem.no_such": "no {what} {value}",
    "problem.deactivated": "{what} {value} is deactivated",
    "problem.skill_category": "{value} is not a category (one of {options})",
    "problem.skill_twice": "{value} is named twice", "problem.skill_penalty": "{value}: the penalty is a whole number from 0 to 99",
    "problem.not_pjsip": "a PJSIP endpoint, e.g. PJSIP/1001",
    "problem.endpoint_name": "endpoint name: 1-40 letters, digits, _, ., + or -",
    "problem.unknown_field": "no field {value}", "problem.fixed": "cannot be changed",
    "problem.rota_place_taken": "team {other} already has rota place {value}",
    "problem.team_has_agents": "{count} active agents are still in team {value}: move them first",
    "problem.phone_taken": "{value} already rings for agent {other}",
    "problem.leader_not_staff": "the leader must be one of this department's logins",
    "problem.department_has_orders": "{count} open orders are with {value}: redispatch them first",
    "problem.department_has_lines": "the lines {lines} still ring for {value}: move or deactivate them first",
    "problem.line_needs_category": "a dual-track line needs its callers' category",
    "problem.line_needs_department": "a dual-track line needs its department",
    "problem.agent_link_role": "only an agent login is linked to an agent",
    "problem.department_link_role": "only a department login is linked to a department",
    "problem.agent_has_login": "the agent already logs in as {other}",
    "problem.leads_department": "{value} leads {other}: name another leader first",
    "problem.already_inactive": "{what} {value} is already deactivated", "problem.no_deactivation": "not deactivated here",
    "problem.password": "the password needs at least 8 characters", "problem.no_column": "no such column",
    "problem.stray_cell": "a cell outside the named columns", "problem.key_required": "is required (it names the record)",
    "problem.duplicate_key": "{value} is also on line {line}",
    "error.invalid_rules": "The routing rules have problems", "error.bad_file": "Cannot read the file",
    "error.bad_content_type": "Wrong file type (CSV or XLSX)", "error.too_large": "The file is too large",
  },
});

/** A field's name in words. */
export function fieldLabel(name) {
  const key = `field.${name}`;
  const words = t(key);
  return words === key ? name : words;
}

/** One problem of the admin API ({field, code, params}) in words. */
export function problemText(p) {
  const params = { ...(p.params || {}) };
  if (params.what) params.what = t(`admin.kind.${params.what}`);
  const key = `problem.${p.code}`;
  const words = t(key, params);
  return `${fieldLabel(p.field)}：${words === key ? t("error.invalid") : words}`;
}

/** The problems of an ApiError from the admin API (or none). */
export function problemsOf(err) {
  return (err && err.body && err.body.error && err.body.error.problems) || [];
}
