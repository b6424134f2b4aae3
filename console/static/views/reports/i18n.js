// Words of the reports view (both languages).
import { messages } from "../../lib/i18n.js";

const M = {
  "zh-CN": {
    calls: "来电", offered: "进入队列", answered: "接通", abandoned: "放弃",
    service_level: "15秒接通率", abandon_rate: "放弃率", asa_seconds: "平均应答(秒)",
    aht_seconds: "平均通话(秒)", submitted: "受理工单", received: "受理", closed: "办结",
    completion_rate: "办结率", on_time_rate: "按时办结率", return_rate: "退回率",
    satisfaction_rate: "满意率（回访）", service_rating: "热线服务评价",
    within_target_minutes: "10分钟内成单", overdue_open: "超期在办", overdue_now: "当前超期",
    callbacks_open: "待回电", visits_due: "待回访",
  },
  en: {
    calls: "Calls", offered: "Offered", answered: "Answered", abandoned: "Abandoned",
    service_level: "Answered in 15 s", abandon_rate: "Abandon rate", asa_seconds: "ASA (s)",
    aht_seconds: "AHT (s)", submitted: "Orders taken", received: "Received", closed: "Closed",
    completion_rate: "Completion", on_time_rate: "On time", return_rate: "Returned",
    satisfaction_rate: "Satisfaction (follow-up)", service_rating: "Hotline service rating",
    within_target_minutes: "Order within 10 min", overdue_open: "Overdue open",
    overdue_now: "Overdue now", callbacks_open: "Callbacks due", visits_due: "Follow-ups due",
  },
};

const prefixed = (words) => Object.fromEntries(Object.entries(words).map(([k, v]) => [`reports.m.${k}`, v]));

messages({
  "zh-CN": {
    ...prefixed(M["zh-CN"]),
    "reports.today": "今日指标", "reports.sl_target": "目标：{target} 在15秒内接通",
    "reports.per_hour": "每小时来电", "reports.hour": "时", "reports.no_calls_today": "今天还没有来电",
    "reports.accounts": "承办单位考核", "reports.accounts_note": "近30天 · 办结率目标 {target}",
    "reports.department": "单位", "reports.no_orders_30d": "近30天没有派单",
    "reports.export_csv": "导出CSV", "reports.export_xlsx": "导出XLSX",
    "reports.title": "报表", "reports.dimension": "维度", "reports.period": "周期",
    "reports.from": "开始日期", "reports.to": "结束日期", "reports.measure": "图表指标",
    "reports.show": "查询", "reports.key": "对象", "reports.total": "合计",
    "reports.none": "（无）", "reports.no_rows": "所选期间没有数据",
    "reports.dim.all": "全中心", "reports.dim.queue": "按队列", "reports.dim.category": "按类别",
    "reports.dim.agent": "按坐席", "reports.dim.department": "按承办单位",
    "reports.per.day": "按日", "reports.per.week": "按周", "reports.per.month": "按月",
    "reports.queue_of": "{name}队列", "reports.centre": "全中心",
    "error.bad_dimension": "维度不正确", "error.bad_period": "周期不正确",
    "error.bad_range": "日期范围不正确（最多400天）", "error.bad_format": "导出格式不正确",
    "error.bad_key": "对象编号不正确",
  },
  en: {
    ...prefixed(M.en),
    "reports.today": "Today", "reports.sl_target": "Target: {target} answered within 15 s",
    "reports.per_hour": "Calls per hour", "reports.hour": "Hour", "reports.no_calls_today": "No calls yet today",
    "reports.accounts": "Departments held to account", "reports.accounts_note": "Last 30 days · completion target {target}",
    "reports.department": "Department", "reports.no_orders_30d": "No orders dispatched in the last 30 days",
    "reports.export_csv": "Export CSV", "reports.export_xlsx": "Export XLSX",
    "reports.title": "Reports", "reports.dimension": "By", "reports.period": "Period",
    "reports.from": "From", "reports.to": "To", "reports.measure": "Chart",
    "reports.show": "Show", "reports.key": "Who / what", "reports.total": "Total",
    "reports.none": "(none)", "reports.no_rows": "No data in this period",
    "reports.dim.all": "Whole centre", "reports.dim.queue": "Queue", "reports.dim.category": "Category",
    "reports.dim.agent": "Agent", "reports.dim.department": "Department",
    "reports.per.day": "Daily", "reports.per.week": "Weekly", "reports.per.month": "Monthly",
    "reports.queue_of": "{name} queue", "reports.centre": "Whole centre",
    "error.bad_dimension": "Unknown grouping", "error.bad_period": "Unknown period",
    "error.bad_range": "Bad date range (at most 400 days)", "error.bad_format": "Unknown export format",
    "error.bad_key": "Unknown id",
  },
});
