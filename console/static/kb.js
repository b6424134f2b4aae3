// The knowledge-base panel of the console (知识库): agents search it during a
// call and get suggestions from the caller's description; "用此答复" links
// the article to the order being written (a consultation answered from it
// closes at once).  Supervisors write and edit articles (each save a
// version); departments and editors see their expired articles.
// Loaded before index.html's script; uses its $, api and text only once
// index.html calls kbStart.
"use strict";
let kbMe = null, kbChosen = null, kbCategories = [];

function kbStart(user) {
  if (!kbMe) kbWireUp();
  kbMe = user;
  const editor = ["supervisor", "admin"].includes(user.role);
  $("kb-panel").classList.remove("hidden");
  $("kb-form").classList.toggle("hidden", !editor);
  $("kb-hidden-row").classList.toggle("hidden", !editor);
  $("kb-expired-box").classList.toggle("hidden", !(editor || user.role === "department"));
  api("/api/kb/categories").then(c => {
    kbCategories = c.categories;
    const options = kbCategories.map(x => `<option>${text(x)}</option>`).join("");
    $("kb-category").innerHTML = `<option value="">全部类别</option>` + options;
    $("kb-e-category").innerHTML = options;
  });
  kbSearch();
  kbExpired();
}

function kbRender(target, articles, note) {
  $(target).innerHTML = (note ? `<p style="color:var(--muted)">${text(note)}</p>` : "") + (articles.map(a =>
    `<details data-id="${a.id}"><summary><b>${text(a.title)}</b> <small>${text(a.category)} · ${text(a.department || "–")}` +
    `${a.valid_until ? " · 有效至 " + text(a.valid_until) : ""}${a.expired ? ' · <span class="bad">已过期</span>' : ""}${a.active ? "" : " · 已停用"}</small></summary>` +
    `<p>${text(a.answer)}</p><p><small>依据：${text(a.source || "–")} · 关键词：${text((a.keywords || []).join("、"))} · 第${a.version}版</small></p>` +
    `<p>${kbMe.role === "agent" ? `<a href="#" data-use="${a.id}" data-title="${text(a.title)}">用此答复</a>` : ""}` +
    `${["supervisor", "admin"].includes(kbMe.role) ? ` <a href="#" data-edit="${a.id}">修改</a>` : ""}</p></details>`).join("")
    || `<p style="color:var(--muted)">没有找到</p>`);
  for (const link of $(target).querySelectorAll("a[data-use]")) link.onclick = (e) => {
    e.preventDefault(); kbUse(Number(link.dataset.use), link.dataset.title);
  };
  for (const link of $(target).querySelectorAll("a[data-edit]")) link.onclick = (e) => {
    e.preventDefault(); kbEdit(Number(link.dataset.edit));
  };
}

async function kbSearch() {
  const q = $("kb-q").value.trim(), category = $("kb-category").value;
  const params = new URLSearchParams({limit: "20"});
  if (q) params.set("q", q);
  if (category) params.set("category", category);
  if ($("kb-hidden").checked) params.set("include_hidden", "1");
  try {
    const r = await api("/api/kb/articles?" + params);
    kbRender("kb-results", r.articles, q ? `分词：${r.terms.join(" / ") || "（无）"}` : "");
  } catch (err) { $("kb-results").textContent = err.message; }
}

// Suggestions for what the caller said (the description transcript) or wrote.
async function kbSuggest(said) {
  if (!kbMe || kbMe.role !== "agent" || !said) return;
  try {
    const r = await api("/api/kb/suggest", {method: "POST", body: JSON.stringify({text: said, limit: 5})});
    kbRender("kb-suggestions", r.articles, `根据来电人描述推荐（${r.terms.slice(0, 8).join("、")}）`);
  } catch (err) { $("kb-suggestions").textContent = err.message; }
}

function kbUse(id, title) {
  kbChosen = id;
  $("f-kb").innerHTML = `引用知识库：${text(title)} <a href="#" id="f-kb-clear">取消</a>`;
  $("f-kb-clear").onclick = (e) => { e.preventDefault(); kbReset(); };
  if ($("f-category").value === "consult") $("f-oncall").checked = true;  // answered from the article
}
function kbReset() { kbChosen = null; $("f-kb").textContent = ""; $("kb-suggestions").innerHTML = ""; }
function kbChosenId() { return kbChosen; }

async function kbExpired() {
  if (!kbMe || !["supervisor", "admin", "department"].includes(kbMe.role)) return;
  try {
    const all = $("kb-expired-all").checked ? "?all=1" : "";
    const r = await api("/api/kb/expired" + all);
    kbRender("kb-expired", r.articles, r.articles.length ? "以下知识已过期，坐席看不到，请更新有效期或内容" : "");
  } catch (err) { $("kb-expired").textContent = err.message; }
}

async function kbEdit(id) {
  const a = await api(`/api/kb/articles/${id}`);
  const f = $("kb-form");
  f.dataset.id = a.id; f.dataset.version = a.version;
  $("kb-e-title").value = a.title; $("kb-e-answer").value = a.answer; $("kb-e-category").value = a.category;
  $("kb-e-dept").value = a.department_id ?? ""; $("kb-e-source").value = a.source;
  $("kb-e-valid").value = a.valid_until || ""; $("kb-e-keywords").value = (a.keywords || []).join("、");
  $("kb-e-active").checked = a.active;
  $("kb-e-history").textContent = (a.history || []).map(v => `第${v.version}版 ${v.edited_at.slice(0, 16)} ${v.note}`).join("；");
  $("kb-e-msg").textContent = `修改第${a.version}版`;
}

function kbWireUp() {
  $("kb-q").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); kbSearch(); } });
  $("kb-go").onclick = (e) => { e.preventDefault(); kbSearch(); };
  $("kb-category").onchange = kbSearch; $("kb-hidden").onchange = kbSearch;
  $("kb-expired-all").onchange = kbExpired;
  $("kb-new").onclick = (e) => {
    e.preventDefault(); const f = $("kb-form"); f.reset(); delete f.dataset.id;
    $("kb-e-history").textContent = ""; $("kb-e-msg").textContent = "新建";
  };
  $("kb-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = $("kb-form"), dept = $("kb-e-dept").value;
    const body = {category: $("kb-e-category").value, title: $("kb-e-title").value, answer: $("kb-e-answer").value,
      department: dept ? Number(dept) : null, source: $("kb-e-source").value,
      valid_until: $("kb-e-valid").value || null, keywords: $("kb-e-keywords").value, active: $("kb-e-active").checked};
    try {
      const saved = f.dataset.id
        ? await api(`/api/kb/articles/${f.dataset.id}`, {method: "PUT", body: JSON.stringify({...body, version: Number(f.dataset.version), note: $("kb-e-note").value})})
        : await api("/api/kb/articles", {method: "POST", body: JSON.stringify(body)});
      f.dataset.id = saved.id; f.dataset.version = saved.version;
      $("kb-e-msg").textContent = `已保存（第${saved.version}版）`;
      kbSearch(); kbExpired();
    } catch (err) { $("kb-e-msg").textContent = err.message; }
  });
}
