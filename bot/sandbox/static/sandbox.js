// khaibao sandbox page: pick sample people, chat as them, turn the bot's time dial.
// Plain JavaScript, no build step. It talks to /_sandbox/* on the same server.
"use strict";

const S = { people: [], byId: {}, open: [], version: -1, seen: {}, poll: null, zone: undefined, toasted: new Set(), channel: {} };
// This run's token, embedded in the page: the API refuses any request without it, so another
// web page open in the same browser cannot drive the sandbox.
const TOKEN = document.querySelector('meta[name="sandbox-token"]').content;
const AUTH = { "X-Sandbox-Token": TOKEN };
const fileUrl = (fileId) => `/_sandbox/file/${encodeURIComponent(fileId)}?token=${encodeURIComponent(TOKEN)}`;
const zaloFileUrl = (id) => `/_sandbox/zalo/file/${encodeURIComponent(id)}?token=${encodeURIComponent(TOKEN)}`;
// A pane chats on Telegram or, switched, on Zalo (through the sandbox OA): its actions go to
// /_sandbox/zalo/<action> then.
const onZalo = (staffId) => S.channel[staffId] === "zalo";
const actionPath = (staffId, action) => (onZalo(staffId) ? `/_sandbox/zalo/${action}` : `/_sandbox/${action}`);

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json", ...AUTH }, body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// ---------------------------------------------------------------- directory

async function loadPeople() {
  S.people = await (await fetch("/_sandbox/people", { headers: AUTH })).json();
  S.byId = Object.fromEntries(S.people.map((p) => [p.staff_id, p]));
  renderPeople();
  const wanted = decodeURIComponent(location.hash.slice(1)).split(",").filter((id) => S.byId[id]);
  for (const id of wanted) await openPane(id);
}

function renderPeople() {
  const filter = document.getElementById("people-filter").value.trim().toLowerCase();
  const box = document.getElementById("people");
  box.replaceChildren();
  let unit = null;
  for (const p of S.people) {
    const hay = `${p.staff_id} ${p.name} ${p.position} ${p.unit} ${p.roles.join(" ")}`.toLowerCase();
    if (filter && !hay.includes(filter)) continue;
    if (p.unit !== unit) { unit = p.unit; box.append(el("div", { class: "unit", text: unit })); }
    const roles = p.roles.length ? ` · ${p.roles.join(", ")}` : "";
    const invite = p.invite ? `\n🔗 ${p.invite}` : "";
    box.append(el("button", {
      type: "button", class: "person" + (S.open.includes(p.staff_id) ? " open" : ""),
      "data-staff": p.staff_id, title: `${p.phone}${roles}${invite}`, onclick: () => openPane(p.staff_id),
    }, p.name, el("span", { class: "id", text: p.staff_id }), el("span", { class: "pos", text: p.position + roles })));
  }
}

// ---------------------------------------------------------------- panes

async function openPane(staffId) {
  if (S.open.includes(staffId)) { paneOf(staffId).querySelector("textarea[name=text]").focus(); return; }
  await post("/_sandbox/open", { staff_id: staffId });
  const p = S.byId[staffId];
  const pane = document.getElementById("pane-template").content.firstElementChild.cloneNode(true);
  pane.dataset.staff = staffId;
  pane.querySelector(".name").textContent = p.name;
  pane.querySelector(".role").textContent = `${p.staff_id} · ${p.position} · ${p.unit}`;
  pane.querySelector(".close").addEventListener("click", () => closePane(staffId));
  pane.querySelector(".channel").addEventListener("click", () => switchChannel(staffId));
  pane.querySelector(".share-contact").addEventListener("click", () => act(staffId, "contact", {}));
  pane.querySelector(".toggle-keyboard").addEventListener("click", () => pane.classList.toggle("keyboard-hidden"));
  const input = pane.querySelector("textarea[name=text]");
  const sendBox = (action) => {
    if (input.value.trim()) act(staffId, action, { text: input.value });
    input.value = "";
    input.rows = 1;
  };
  pane.querySelector(".compose").addEventListener("submit", (event) => { event.preventDefault(); sendBox("text"); });
  // Enter sends, Shift+Enter starts a new line; pasted text keeps its line breaks.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendBox("text"); }
  });
  input.addEventListener("input", () => { input.rows = Math.min(6, input.value.split("\n").length); });
  pane.querySelector(".forward").addEventListener("click", () => sendBox("forward"));
  const invite = pane.querySelector(".invite");
  // On Zalo there is no deep link: the invite code is typed as text.
  const code = p.invite ? p.invite.split("start=")[1] : "";
  if (p.invite) invite.addEventListener("click", () => act(staffId, "text", { text: onZalo(staffId) ? code : `/start ${code}` }));
  else invite.hidden = true;
  pane.querySelector(".attach input").addEventListener("change", (event) => sendFile(staffId, event.target));
  document.getElementById("empty").hidden = true;
  document.getElementById("panes").append(pane);
  S.open.push(staffId);
  S.seen[staffId] = { json: "", count: 0 };
  afterPanesChanged();
}

async function switchChannel(staffId) {
  const zalo = !onZalo(staffId);
  if (zalo && !S.zaloReady) { status("Zalo không có trong sandbox này · no Zalo in this sandbox"); return; }
  if (zalo) {
    try { await post("/_sandbox/zalo/open", { staff_id: staffId }); } catch (error) { status(`zalo: ${error.message}`); return; }
  }
  S.channel[staffId] = zalo ? "zalo" : "telegram";
  const pane = paneOf(staffId);
  pane.classList.toggle("zalo", zalo);
  pane.querySelector(".channel").textContent = zalo ? "Zalo" : "Telegram";
  S.seen[staffId] = { json: "", count: 0 };
  restartPoll();
}

function closePane(staffId) {
  paneOf(staffId)?.remove();
  S.open = S.open.filter((id) => id !== staffId);
  document.getElementById("empty").hidden = S.open.length > 0;
  afterPanesChanged();
}

function afterPanesChanged() {
  history.replaceState(null, "", S.open.length ? `#${S.open.join(",")}` : location.pathname);
  renderPeople();
  restartPoll();
}

function paneOf(staffId) {
  return document.querySelector(`.pane[data-staff="${CSS.escape(staffId)}"]`);
}

async function act(staffId, action, body) {
  try {
    await post(actionPath(staffId, action), { staff_id: staffId, ...body });
  } catch (error) {
    status(`${action}: ${error.message}`);
  }
}

// A picture goes as a photo, anything else (a PDF, a DOCX) as a document, as Telegram apps do.
async function sendFile(staffId, input) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const kind = file.type.startsWith("image/") ? "photo" : "document";
  const form = new FormData();
  form.append("staff_id", staffId);
  form.append(kind, file);
  const res = await fetch(actionPath(staffId, kind), { method: "POST", body: form, headers: AUTH });
  if (!res.ok) status(`${kind}: ${(await res.json()).error}`);
}

// ---------------------------------------------------------------- rendering a chat

function renderChat(staffId, timeline) {
  const pane = paneOf(staffId);
  if (!pane) return;
  const json = JSON.stringify(timeline);
  const seen = S.seen[staffId];
  if (json === seen.json) return;
  const botCount = timeline.filter((m) => m.from === "bot").length;
  if (seen.json && botCount > seen.count) {
    pane.classList.remove("flash"); void pane.offsetWidth; pane.classList.add("flash");
  }
  S.seen[staffId] = { json, count: botCount };
  const chat = pane.querySelector(".chat");
  const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
  const zalo = onZalo(staffId);
  const nodes = timeline.map((entry) => (zalo ? renderZaloEntry(staffId, entry) : renderEntry(staffId, entry)));
  chat.replaceChildren(...nodes);
  renderKeyboard(staffId, pane.querySelector(".keyboard"), zalo ? [] : timeline);  // Zalo has no menu keyboard
  if (!seen.json || timeline.at(-1)?.from === "user") chat.scrollTop = chat.scrollHeight;
  else if (botCount > seen.count) {
    // New messages: bring the first answer to the person's last action (or else the first new
    // message) to the top of the view, so a long reply is read from its beginning, even when
    // its parts arrive one poll after another.
    const lastUser = timeline.findLastIndex((m) => m.from === "user");
    const reply = nodes.find((n, i) => i > lastUser && timeline[i].from === "bot");
    const firstNew = nodes.filter((n, i) => timeline[i].from === "bot")[seen.count];
    const target = reply && lastUser >= 0 ? reply : firstNew;
    if (target) chat.scrollTop = Math.min(target.offsetTop - chat.offsetTop - 8, chat.scrollHeight);
  } else if (atBottom) chat.scrollTop = chat.scrollHeight;
  showToasts(pane, timeline);
}

// A tap's answer (answerCallbackQuery text) shows briefly over the chat, as Telegram shows it.
function showToasts(pane, timeline) {
  const box = pane.querySelector(".toasts");
  for (const entry of timeline) {
    if (!entry.answer || !entry.query_id || S.toasted.has(entry.query_id)) continue;
    S.toasted.add(entry.query_id);
    const toast = el("div", { class: "toast" + (entry.answer.show_alert ? " alert" : ""), text: entry.answer.text });
    box.append(toast);
    setTimeout(() => toast.remove(), entry.answer.show_alert ? 8000 : 4000);
  }
}

// Message dates follow the dial; show them in the bot's time zone.
function time(unix) {
  const options = { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: S.zone }).formatToParts(new Date(unix * 1000));
  } catch (error) {
    parts = new Intl.DateTimeFormat("en-GB", options).formatToParts(new Date(unix * 1000));
  }
  const part = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return `${part.day}/${part.month} ${part.hour}:${part.minute}`;
}

function renderEntry(staffId, m) {
  if (m.from === "user" && m.press !== undefined) {
    return el("div", { class: "tap", text: `↳ ${m.button}` });
  }
  if (m.from === "user") {
    const box = el("div", { class: "msg me" });
    if (m.forward_origin) box.append(el("div", { class: "forwarded", text: `↪ ${m.forward_origin.sender_user_name || "chuyển tiếp"}` }));
    if (m.text) box.append(m.text);
    if (m.contact) box.append(`📱 ${m.contact.phone_number}`);
    if (m.document) box.append(el("a", { class: "file", href: fileUrl(m.document.file_id), target: "_blank", rel: "noopener", text: `📄 ${m.document.file_name || "file"}` }));
    if (m.photo) box.append(el("img", { src: fileUrl(m.photo.at(-1).file_id), alt: "photo" }));
    if (m.caption) box.append(el("div", { text: m.caption }));
    box.append(el("span", { class: "meta", text: time(m.date) }));
    return box;
  }
  if (m.deleted) return el("div", { class: "msg bot deleted", text: "Tin nhắn đã bị xoá · message deleted" });
  const box = el("div", { class: "msg bot", "data-message-id": m.message_id });
  if (m.photo) box.append(el("img", { src: fileUrl(m.photo.file_id), alt: "photo" }));
  if (m.document) {
    const size = `${Math.max(1, Math.round(m.document.size / 1024))} KB`;
    box.append(el("a", {
      class: "file", href: fileUrl(m.document.file_id), target: "_blank", rel: "noopener",
      download: m.document.file_name || "file", text: `📄 ${m.document.file_name || "file"} (${size})`,
    }));
  }
  if (m.text != null) box.append(m.text);
  if (m.caption != null) box.append(el("div", { text: m.caption }));
  const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
  if (rows.length) box.append(renderInline(staffId, m, rows));
  const meta = el("span", { class: "meta", text: time(m.date) });
  if (m.edits && m.edits.length) {
    const before = m.edits.map((e, i) => `#${i + 1}: ${e.text ?? e.caption ?? ""}`).join("\n\n");
    meta.prepend(el("span", { class: "edited", title: `Trước khi sửa · before editing:\n${before}`, text: "đã sửa · edited " }));
  }
  box.append(meta);
  return box;
}

// ---------------------------------------------------------------- a Zalo chat

// Zalo's look: no menu keyboard, at most 5 buttons under a message, no edits (an edit comes as a
// new message), a tap on a hidden-query button shows only as a note.
function renderZaloEntry(staffId, m) {
  if (m.from === "user") {
    if (m.kind === "tap" && m.hidden) return el("div", { class: "tap", text: `↳ ${m.button}` });
    if (m.kind === "follow" || m.kind === "unfollow") {
      return el("div", { class: "note", text: m.kind === "follow" ? "Đã quan tâm OA · followed" : "Đã bỏ quan tâm · unfollowed" });
    }
    const box = el("div", { class: "msg me" });
    if (m.kind === "image") box.append(el("img", { src: zaloFileUrl(m.file.upload_id), alt: "photo" }));
    else if (m.kind === "file") box.append(el("a", { class: "file", href: zaloFileUrl(m.file.upload_id), target: "_blank", rel: "noopener", text: `📄 ${m.file.name}` }));
    else if (m.kind === "submit_info") box.append(`📱 ${m.text}`);
    else if (m.text) box.append(m.text);
    box.append(el("span", { class: "meta", text: time(m.date) }));
    return box;
  }
  if (m.kind === "reaction") return el("div", { class: "note", text: `OA: ${m.text}` });
  const box = el("div", { class: "msg bot", "data-message-id": m.message_id });
  if (m.upload && m.kind !== "file") box.append(el("img", { src: zaloFileUrl(m.upload.upload_id), alt: "photo" }));
  if (m.image_url) box.append(el("img", { src: m.image_url, alt: "photo" }));
  if (m.upload && m.kind === "file") {
    box.append(el("a", { class: "file", href: zaloFileUrl(m.upload.upload_id), target: "_blank", rel: "noopener", download: m.upload.name, text: `📄 ${m.upload.name}` }));
  }
  if (m.kind === "request_user_info") {
    box.append(el("strong", { text: m.element.title }), el("div", { text: m.element.subtitle }));
    box.append(el("div", { class: "inline-rows" }, el("button", { type: "button", class: "inline", text: "Chia sẻ · share", onclick: () => act(staffId, "contact", {}) })));
  }
  if (m.kind === "template") box.append(el("div", { class: "forwarded", text: `ZBS ${m.template.template_id}` }), JSON.stringify(m.template.template_data));
  if (m.text != null) box.append(el("div", { text: m.text }));
  if (m.buttons && m.buttons.length) {
    const rows = el("div", { class: "inline-rows" });
    for (const b of m.buttons) {
      if (b.type === "oa.open.url") rows.append(el("a", { href: b.payload.url, target: "_blank", rel: "noopener", text: `${b.title} ↗` }));
      else if (b.type.startsWith("oa.query")) rows.append(el("button", { type: "button", class: "inline", text: b.title, onclick: () => act(staffId, "tap", { message_id: m.message_id, title: b.title }) }));
      else rows.append(el("span", { class: "inline", text: b.title }));
    }
    box.append(rows);
  }
  box.append(el("span", { class: "meta", text: time(m.sent_at) + (m.billable ? " · tính phí · billable" : "") }));
  return box;
}

function renderInline(staffId, m, rows) {
  const box = el("div", { class: "inline-rows" });
  for (const row of rows) {
    const line = el("div", { class: "inline-row" });
    for (const b of row) {
      if (b.url) line.append(el("a", { href: b.url, target: "_blank", rel: "noopener", text: `${b.text} ↗` }));
      else line.append(el("button", {
        type: "button", class: "inline", text: b.text,
        onclick: () => act(staffId, "press", { message_id: m.message_id, data: b.callback_data }),
      }));
    }
    box.append(line);
  }
  return box;
}

function currentKeyboard(timeline) {
  let keyboard = null;
  for (const m of timeline) {
    const markup = m.from === "bot" ? m.reply_markup : null;
    if (markup && markup.keyboard) keyboard = { rows: markup.keyboard, once: !!markup.one_time_keyboard, used: false };
    else if (markup && markup.remove_keyboard) keyboard = null;
    else if (m.from === "user" && keyboard && keyboard.once && m.press === undefined) keyboard.used = true;
  }
  return keyboard && !keyboard.used ? keyboard.rows : [];
}

function renderKeyboard(staffId, box, timeline) {
  box.replaceChildren(...currentKeyboard(timeline).map((row) => el("div", { class: "row" }, ...row.map((key) => {
    const label = typeof key === "string" ? key : key.text;
    const contact = typeof key === "object" && key.request_contact;
    return el("button", {
      type: "button", class: "reply-key" + (contact ? " contact" : ""), text: label,
      onclick: () => (contact ? act(staffId, "contact", {}) : act(staffId, "text", { text: label })),
    });
  }))));
}

// ---------------------------------------------------------------- long poll

function restartPoll() {
  if (S.poll) S.poll.abort();
  S.version = -1;
  pollLoop();
}

async function pollLoop() {
  const controller = new AbortController();
  S.poll = controller;
  while (!controller.signal.aborted) {
    try {
      const query = `since=${S.version}&staff=${encodeURIComponent(S.open.join(","))}`;
      const res = await fetch(`/_sandbox/state?${query}`, { signal: controller.signal, headers: AUTH });
      const data = await res.json();
      S.version = data.version;
      showClock(data.clock);
      S.zaloReady = !!(data.channels && data.channels.zalo);
      for (const [staffId, timeline] of Object.entries(data.chats)) {
        if (!onZalo(staffId)) renderChat(staffId, timeline);
      }
      for (const [staffId, timeline] of Object.entries((data.channels || {}).zalo || {})) {
        if (onZalo(staffId)) renderChat(staffId, timeline);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      status("Mất kết nối với sandbox · lost the sandbox; retrying…");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

// ---------------------------------------------------------------- the time dial

function showClock(clock) {
  S.zone = clock.zone;
  document.getElementById("clock-label").textContent = clock.label;
  document.getElementById("clock-zone").textContent =
    clock.zone + (clock.offset_seconds ? ` · lệch giờ thật ${formatOffset(clock.offset_seconds)}` : "");
  const jump = document.getElementById("jump-at");
  if (document.activeElement !== jump) jump.value = clock.local;  // dd/mm/yyyy hh:mm
}

function formatOffset(seconds) {
  const sign = seconds < 0 ? "−" : "+";
  let rest = Math.abs(seconds);
  const days = Math.floor(rest / 86400); rest -= days * 86400;
  const hours = Math.floor(rest / 3600); rest -= hours * 3600;
  const minutes = Math.round(rest / 60);
  return `${sign}${days ? days + " ngày " : ""}${hours} giờ ${String(minutes).padStart(2, "0")} phút`;
}

async function moveClock(body) {
  try {
    showClock(await post("/_sandbox/clock", body));
    status("");
  } catch (error) {
    status(error.message);
  }
}

function status(text) {
  document.getElementById("dial-status").textContent = text;
}

for (const button of document.querySelectorAll(".dial-buttons button")) {
  button.addEventListener("click", () => moveClock({ advance_minutes: Number(button.dataset.minutes) }));
}
document.getElementById("jump-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = document.getElementById("jump-at").value;
  if (value) moveClock({ jump_to: value });
});
document.getElementById("clock-reset").addEventListener("click", () => moveClock({ reset: true }));
document.getElementById("people-filter").addEventListener("input", renderPeople);
loadPeople().then(restartPoll);
