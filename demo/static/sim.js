// SalesBot WeCom simulator: pick a person, chat with the bot, tap card buttons, run scheduled jobs.
// Vanilla JS, no dependencies; everything the bot sent is rendered with textContent or escaped markdown.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { users: [], userid: null, lastJson: "", busy: false, timer: null };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // WeCom markdown subset: # headings, **bold**, [text](url), `code`, > quote, <font color="info|comment|warning">.
  function inline(s) {
    let out = escapeHtml(s);
    out = out.replace(/&lt;font color=&quot;(info|comment|warning)&quot;&gt;([\s\S]*?)&lt;\/font&gt;/g,
      (_, c, t) => `<span class="font-${c}">${t}</span>`);
    out = out.replace(/`([^`]+)`/g, "<code>$1</code>");
    out = out.replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>");
    out = out.replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g,
      (_, t, u) => `<a href="${u}" target="_blank" rel="noopener noreferrer">${t}</a>`);
    return out;
  }

  function renderMarkdown(src) {
    const lines = String(src).split("\n");
    const html = [];
    for (const line of lines) {
      const h = line.match(/^(#{1,6})\s+(.*)$/);
      if (h) { const n = Math.min(h[1].length, 4); html.push(`<h${n}>${inline(h[2])}</h${n}>`); continue; }
      const q = line.match(/^>\s?(.*)$/);
      if (q) { html.push(`<blockquote>${inline(q[1])}</blockquote>`); continue; }
      html.push(line.trim() === "" ? "<p>&nbsp;</p>" : `<p>${inline(line)}</p>`);
    }
    return html.join("");
  }
  window.simRenderMarkdown = renderMarkdown; // for tests and curious readers

  async function api(path, options) {
    const res = await fetch(path, options);
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || `HTTP ${res.status}`);
    return body;
  }

  function post(path, data) {
    return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(data) });
  }

  function currentUser() { return state.users.find((u) => u.userid === state.userid); }

  function renderMe() {
    const u = currentUser();
    const box = $("me");
    box.textContent = "";
    if (!u) return;
    box.append(el("div", "name", u.name), el("span", "role", u.role_label));
    if (u.region) box.append(el("span", "region", u.region));
    box.append(el("div", "region", `账号 ${u.userid}`));
    $("chat-title").textContent = "销售助手";
    $("chat-sub").textContent = `与 ${u.name}（${u.role_label}）的会话`;
  }

  function renderUsers() {
    const select = $("who");
    select.textContent = "";
    const groups = {};
    for (const u of state.users) (groups[u.role_label] = groups[u.role_label] || []).push(u);
    for (const label of Object.keys(groups)) {
      const og = document.createElement("optgroup");
      og.label = label;
      for (const u of groups[label]) {
        const opt = el("option", null, `${u.name}（${u.role_label}${u.region ? " · " + u.region : ""}）${u.messages ? " · " + u.messages + "条" : ""}`);
        opt.value = u.userid;
        og.append(opt);
      }
      select.append(og);
    }
    if (state.userid) select.value = state.userid;
  }

  function renderCard(m) {
    const c = m.card || {};
    const done = Boolean(c.replace_text || m.replace_name);
    const card = el("div", "card" + (done ? " done" : ""));
    card.dataset.taskId = m.task_id || "";
    if (m.updated) card.dataset.updated = "1";
    if (c.source && c.source.desc) card.append(el("div", "src", c.source.desc));
    if (c.main_title) {
      if (c.main_title.title) card.append(el("div", "title", c.main_title.title));
      if (c.main_title.desc) card.append(el("div", "desc", c.main_title.desc));
    }
    if (c.emphasis_content && (c.emphasis_content.title || c.emphasis_content.desc)) {
      const e = el("div", "emph");
      e.append(el("b", null, c.emphasis_content.title || ""), el("span", "desc", c.emphasis_content.desc || ""));
      card.append(e);
    }
    if (c.quote_area && (c.quote_area.title || c.quote_area.quote_text)) {
      card.append(el("div", "quote", [c.quote_area.title, c.quote_area.quote_text].filter(Boolean).join("\n")));
    }
    if (c.sub_title_text) card.append(el("div", "sub", c.sub_title_text));
    const items = c.horizontal_content_list || [];
    if (items.length) {
      const dl = el("dl");
      for (const item of items) dl.append(el("dt", null, item.keyname || ""), el("dd", null, item.value || ""));
      card.append(dl);
    }
    const buttons = el("div", "buttons");
    if (done) {
      const b = el("button", "replaced", c.replace_text || m.replace_name);
      b.disabled = true;
      buttons.append(b);
    } else {
      for (const btn of c.button_list || []) {
        const b = el("button", `style-${btn.style || 1}`, btn.text || "");
        b.type = "button";
        b.dataset.key = btn.key || "";
        b.addEventListener("click", () => tap(m.task_id, btn.key, btn.text, b));
        buttons.append(b);
      }
    }
    if (buttons.childElementCount) card.append(buttons);
    return card;
  }

  function renderMessage(m) {
    if (m.from === "me" && m.kind === "tap") return el("div", "note", `你点击了「${m.text}」`);
    const row = el("div", "msg " + (m.from === "me" ? "me" : "bot"));
    row.dataset.kind = m.kind;
    const u = currentUser();
    row.append(el("div", "avatar", m.from === "me" ? (u ? u.name.slice(-2) : "我") : "助手"));
    if (m.from === "me" && m.kind === "image") {
      const box = el("div", "bubble img-msg");
      const img = document.createElement("img");
      img.src = `/sim/media/${encodeURIComponent(m.text)}`;
      img.alt = "照片";
      box.append(img);
      row.append(box);
    } else if (m.kind === "markdown") {
      const box = el("div", "bubble md");
      box.innerHTML = renderMarkdown(m.text || "");
      row.append(box);
    } else if (m.kind === "template_card") {
      row.append(renderCard(m));
    } else if (m.kind === "image") {
      const box = el("div", "bubble img-msg");
      const img = document.createElement("img");
      img.className = "chart";
      img.src = `/sim/media/${encodeURIComponent(m.media_id || "")}`;
      img.alt = "图表";
      box.append(img);
      row.append(box);
    } else {
      row.append(el("div", "bubble", m.text || ""));
    }
    return row;
  }

  function renderConversation(messages) {
    const box = $("messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.textContent = "";
    if (!messages.length) box.append(el("div", "note", "还没有消息。试试发送「帮助」。"));
    let lastMinute = "";
    for (const m of messages) {
      const t = new Date((m.at || 0) * 1000);
      const minute = t.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
      if (minute !== lastMinute) { box.append(el("div", "time", minute)); lastMinute = minute; }
      box.append(renderMessage(m));
    }
    if (nearBottom || state.forceScroll) {
      box.scrollTop = box.scrollHeight;
      // Images (charts, photos) get their height only once loaded: keep the newest message in view.
      for (const img of box.querySelectorAll("img")) {
        if (!img.complete) img.addEventListener("load", () => { box.scrollTop = box.scrollHeight; }, { once: true });
      }
    }
    state.forceScroll = false;
  }

  function show(messages) {
    const json = JSON.stringify(messages);
    if (json === state.lastJson) return;
    state.lastJson = json;
    renderConversation(messages);
  }

  async function refresh() {
    if (!state.userid) return;
    const userid = state.userid;
    try {
      const data = await api(`/sim/api/conversation?userid=${encodeURIComponent(userid)}`);
      if (userid === state.userid) show(data.messages);
    } catch (e) { /* the server may be restarting; the next poll retries */ }
  }

  async function loadSuggestions() {
    const box = $("suggest");
    const userid = state.userid;
    const data = await api(`/sim/api/suggestions?userid=${encodeURIComponent(userid)}`);
    if (userid !== state.userid) return; // switched to someone else meanwhile: theirs will be shown
    box.textContent = "";
    for (const s of data.suggestions) {
      const b = el("button", null, s);
      b.type = "button";
      b.addEventListener("click", () => { $("input").value = s; $("input").focus(); });
      box.append(b);
    }
  }

  async function choose(userid) {
    state.userid = userid;
    state.lastJson = "";
    state.forceScroll = true;
    localStorage.setItem("sim.userid", userid);
    renderMe();
    await refresh();
    loadSuggestions().catch(() => {});
  }

  function setBusy(busy) {
    state.busy = busy;
    $("send").disabled = busy;
    document.body.classList.toggle("busy", busy);
  }

  async function act(path, data) {
    setBusy(true);
    state.forceScroll = true;
    try {
      const res = await post(path, data);
      show(res.messages);
    } catch (e) {
      alert("发送失败：" + e.message);
    } finally {
      setBusy(false);
    }
  }

  async function tap(taskId, key, label, button) {
    if (button) button.disabled = true;
    await act("/sim/api/tap", { userid: state.userid, task_id: taskId, key: key, label: label });
  }

  async function runJob() {
    const out = $("job-result");
    $("run-job").disabled = true;
    out.className = "job-result";
    out.textContent = "运行中…";
    try {
      const res = await post("/sim/api/jobs", { name: $("job").value, at: $("job-at").value });
      out.textContent = res.summary;
      if (!res.ok) out.className = "job-result err";
      await loadUsers();
      await refresh();
    } catch (e) {
      out.textContent = "失败：" + e.message;
      out.className = "job-result err";
    } finally {
      $("run-job").disabled = false;
    }
  }

  async function loadUsers() {
    const data = await api("/sim/api/users");
    state.users = data.users;
    if (!$("job-at").value) $("job-at").value = data.now;
    renderUsers();
    return data;
  }

  async function init() {
    await loadUsers();
    const saved = localStorage.getItem("sim.userid");
    const first = state.users.find((u) => u.userid === saved) || state.users.find((u) => u.role === "rep") || state.users[0];
    $("who").addEventListener("change", (e) => choose(e.target.value));
    $("composer").addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = $("input").value.trim();
      if (!text || state.busy) return;
      $("input").value = "";
      await act("/sim/api/send", { userid: state.userid, text: text });
    });
    $("run-job").addEventListener("click", runJob);
    $("send-location").addEventListener("click", async () => {
      const answer = prompt("发送位置：纬度,经度,地点名", "31.23040,121.47370,客户现场");
      if (!answer) return;
      const [lat, lng, ...label] = answer.split(/[,，]/);
      await act("/sim/api/location", { userid: state.userid, lat: Number(lat), lng: Number(lng), label: label.join(",") || "当前位置" });
    });
    $("photo").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (!file) return;
      setBusy(true);
      try {
        const res = await fetch(`/sim/api/image?userid=${encodeURIComponent(state.userid)}`, {
          method: "POST", headers: { "content-type": file.type || "image/jpeg" }, body: file,
        });
        const body = await res.json();
        if (!res.ok) throw new Error(body.detail || res.status);
        state.forceScroll = true;
        show(body.messages);
      } catch (err) {
        alert("发送失败：" + err.message);
      } finally {
        setBusy(false);
      }
    });
    if (first) { $("who").value = first.userid; await choose(first.userid); }
    state.timer = setInterval(refresh, 1000);
  }

  init().catch((e) => { $("messages").textContent = "无法连接演示服务器：" + e.message; });
})();
