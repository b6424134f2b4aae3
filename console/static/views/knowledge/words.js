// The knowledge-base view's words (zh-CN and English).
import { messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "kb.title": "知识库", "kb.search": "搜索", "kb.query": "关键词或一句话",
    "kb.all_categories": "全部类别", "kb.include_hidden": "含过期和停用",
    "kb.terms": "分词：{terms}", "kb.none": "没有找到", "kb.new": "新建知识",
    "kb.edit": "修改", "kb.expired_title": "已过期的知识", "kb.expired_all": "显示全部",
    "kb.expired_help": "以下知识已过期，坐席看不到，请更新有效期或内容",
    "kb.expired": "已过期", "kb.inactive": "已停用", "kb.valid_until": "有效至 {date}",
    "kb.version": "第 {n} 版", "kb.source": "依据：{source}", "kb.keywords": "关键词：{words}",
    "kb.f.category": "类别", "kb.f.title": "标题", "kb.f.answer": "答复口径",
    "kb.f.department": "承办单位", "kb.f.source": "政策依据", "kb.f.valid_until": "有效期至",
    "kb.f.keywords": "关键词（用顿号分隔）", "kb.f.active": "启用", "kb.f.note": "修改说明",
    "kb.save": "保存", "kb.saved": "已保存（第 {n} 版）", "kb.editing": "修改第 {n} 版",
    "kb.creating": "新建", "kb.history": "修改历史", "kb.no_department": "（不限）",
    "kb.close": "关闭",
  },
  en: {
    "kb.title": "Knowledge base", "kb.search": "Search", "kb.query": "Words or a sentence",
    "kb.all_categories": "All categories", "kb.include_hidden": "Include expired and inactive",
    "kb.terms": "Words: {terms}", "kb.none": "Nothing found", "kb.new": "New article",
    "kb.edit": "Edit", "kb.expired_title": "Expired articles", "kb.expired_all": "Show all",
    "kb.expired_help": "These articles have expired and agents no longer see them: renew or update them",
    "kb.expired": "Expired", "kb.inactive": "Inactive", "kb.valid_until": "Valid until {date}",
    "kb.version": "Version {n}", "kb.source": "Source: {source}", "kb.keywords": "Keywords: {words}",
    "kb.f.category": "Category", "kb.f.title": "Title", "kb.f.answer": "Answer",
    "kb.f.department": "Department", "kb.f.source": "Source", "kb.f.valid_until": "Valid until",
    "kb.f.keywords": "Keywords (separated by 、)", "kb.f.active": "Active", "kb.f.note": "Why it changed",
    "kb.save": "Save", "kb.saved": "Saved (version {n})", "kb.editing": "Editing version {n}",
    "kb.creating": "New", "kb.history": "History", "kb.no_department": "(any)",
    "kb.close": "Close",
  },
});
