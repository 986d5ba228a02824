// The citizen's side of the chat: pick a simulated user and chat, send what a LINE user can send, and show
// the bot's replies and pushes as they arrive (polling the control API's timeline with a cursor).
"use strict";

const API = "/_emulator";
const PLACES = [
  { title: "ศาลาว่าการกรุงเทพมหานคร", address: "173 ถนนดินสอ แขวงเสาชิงช้า เขตพระนคร กรุงเทพฯ", latitude: 13.7525, longitude: 100.5017 },
  { title: "อนุสาวรีย์ชัยสมรภูมิ", address: "ถนนพหลโยธิน เขตราชเทวี กรุงเทพฯ", latitude: 13.7649, longitude: 100.5383 },
  { title: "ประตูท่าแพ", address: "ถนนท่าแพ อำเภอเมืองเชียงใหม่ จังหวัดเชียงใหม่", latitude: 18.7877, longitude: 98.9933 },
  { title: "หาดป่าตอง", address: "อำเภอกะทู้ จังหวัดภูเก็ต", latitude: 7.8964, longitude: 98.2965 },
];

const state = { users: [], groups: [], userId: null, chatId: null, cursor: 0, lastBotItem: null };
const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  const response = await fetch(API + path, {
    method, headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function notice(text) { $("notice").textContent = text || ""; }

async function send(kind, fields) {
  if (!state.userId) { notice("สร้างหรือเลือกผู้ใช้ก่อน"); return null; }
  const groupId = state.chatId !== state.userId ? state.chatId : undefined;
  try {
    const result = await call("POST", `/send/${kind}`, { user_id: state.userId, group_id: groupId, ...fields });
    notice(result.ok ? "" : `บอทตอบ ${result.status ?? "-"} ${result.error || ""}`);
    await poll();
    return result;
  } catch (error) { notice(error.message); return null; }
}

function currentUser() { return state.users.find((u) => u.user_id === state.userId); }

async function loadPeople(selectUser, selectChat) {
  state.users = (await call("GET", "/users")).users;
  state.groups = (await call("GET", "/groups")).groups;
  state.userId = selectUser || state.userId || (state.users[0] && state.users[0].user_id) || null;
  const users = $("user-select");
  users.replaceChildren(...state.users.map((u) => new Option(`${u.display_name} (${u.language}, ${u.status})`, u.user_id)));
  users.value = state.userId || "";
  const chats = $("chat-select");
  const mine = state.groups.filter((g) => g.member_ids.includes(state.userId));
  chats.replaceChildren(new Option("แชท 1:1 กับบอท", state.userId || ""),
    ...mine.map((g) => new Option(`${g.kind === "room" ? "ห้อง" : "กลุ่ม"}: ${g.name} (${g.member_ids.length})`, g.group_id)));
  const wanted = selectChat || state.chatId;
  state.chatId = [state.userId, ...mine.map((g) => g.group_id)].includes(wanted) ? wanted : state.userId;
  chats.value = state.chatId || "";
  const user = currentUser();
  $("user-status").textContent = user ? `สถานะ: ${user.status} · ${user.user_id}` : "ยังไม่มีผู้ใช้: สร้างผู้ใช้ด้านบน";
  const group = state.groups.find((g) => g.group_id === state.chatId);
  $("chat-title").textContent = group ? group.name : document.body.dataset.botName;
  if (!user) $("setup").open = true;
}

function resetTimeline() {
  state.cursor = 0; state.lastBotItem = null;
  $("timeline").replaceChildren();
  $("quick-replies").replaceChildren();
}

function senderName(id) {
  const user = state.users.find((u) => u.user_id === id);
  return user ? user.display_name : id;
}

function addItem(item) {
  const fromBot = item.from === "bot";
  const wrap = Render.el("div", "item " + (fromBot ? "bot" : "user"));
  wrap.dataset.seq = item.seq;
  if (fromBot) wrap.appendChild(Render.el("div", "sender", document.body.dataset.botName));
  else if (state.chatId !== state.userId) wrap.appendChild(Render.el("div", "sender", senderName(item.from)));
  const node = Render.message(item.message, onAction, (id) => `${API}/content/${id}`);
  if (item.unsent) node.classList.add("unsent");
  wrap.appendChild(node);
  if (!fromBot && !item.unsent && item.from === state.userId) {
    wrap.title = "ดับเบิลคลิกเพื่อยกเลิกข้อความ (unsend)";
    wrap.addEventListener("dblclick", async () => {
      await send("unsend", { message_id: item.message.id });
      resetTimeline();
      await poll();
    });
  }
  $("timeline").appendChild(wrap);
  state.lastBotItem = fromBot ? item : null;
}

function note(text) {
  $("timeline").appendChild(Render.el("div", "note", text));
}

function showQuickReplies() {
  const bar = $("quick-replies");
  const items = ((state.lastBotItem && state.lastBotItem.message.quickReply) || {}).items || [];
  bar.replaceChildren(...items.map((item) => Render.actionButton(item.action, onAction)));
}

async function poll() {
  if (!state.chatId) return;
  const chatId = state.chatId;
  const data = await call("GET", `/chats/${chatId}/timeline?since=${state.cursor}`);
  if (chatId !== state.chatId) return;
  const fresh = data.items.filter((item) => item.seq > state.cursor);
  if (fresh.length) {
    fresh.forEach(addItem);
    state.cursor = data.cursor;
    showQuickReplies();
    $("timeline").scrollTop = $("timeline").scrollHeight;
  }
  const loading = data.loading && Date.now() - data.loading.timestamp < data.loading.loadingSeconds * 1000
    && !data.items.some((i) => i.from === "bot" && i.timestamp > data.loading.timestamp);
  $("loading").hidden = !loading;
}

async function loadRichMenu() {
  const menu = state.userId ? await call("GET", `/richmenu?user_id=${state.userId}`) : null;
  const section = $("rich-menu");
  section.hidden = !menu || state.chatId !== state.userId;
  if (!menu) return;
  const frame = $("rich-menu-frame");
  frame.querySelectorAll(".rich-menu-area").forEach((n) => n.remove());
  if (!$("rich-menu-image").src.endsWith(menu.imageUrl)) $("rich-menu-image").src = menu.imageUrl;
  menu.areas.forEach((area) => {
    const b = area.bounds;
    const button = Render.actionButton(area.action, onAction, "rich-menu-area");
    Object.assign(button.style, {
      left: `${(100 * b.x) / menu.size.width}%`, top: `${(100 * b.y) / menu.size.height}%`,
      width: `${(100 * b.width) / menu.size.width}%`, height: `${(100 * b.height) / menu.size.height}%`,
    });
    button.setAttribute("aria-label", area.action.label || area.action.text || area.action.data || "area");
    frame.appendChild(button);
  });
}

// What tapping an action does in the LINE app.
async function onAction(action) {
  switch (action.type) {
    case "message": return send("text", { text: action.text });
    case "postback":
      if (action.displayText || action.text) note(action.displayText || action.text);
      return send("postback", { data: action.data || "" });
    case "datetimepicker": return pickDatetime(action);
    case "location": return $("location-dialog").showModal();
    case "camera": case "cameraRoll": return $("image-file").click();
    case "uri": return window.open(action.uri, "_blank", "noopener");
    case "clipboard": return navigator.clipboard && navigator.clipboard.writeText(action.clipboardText);
    case "richmenuswitch": return send("postback", { data: action.data || "" });
    default: return notice(`action ${action.type} is not simulated`);
  }
}

function pickDatetime(action) {
  const input = $("datetime-input");
  input.type = { date: "date", time: "time", datetime: "datetime-local" }[action.mode] || "date";
  input.value = action.initial || "";
  if (action.min) input.min = action.min;
  if (action.max) input.max = action.max;
  $("datetime-title").textContent = action.label || "เลือกวันเวลา";
  const dialog = $("datetime-dialog");
  dialog.onclose = () => {
    if (dialog.returnValue === "ok" && input.value) {
      send("postback", { data: action.data, params: { [action.mode]: input.value } });
    }
  };
  dialog.showModal();
}

function fileToBase64(file) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1]);
    reader.readAsDataURL(file);
  });
}

function wire() {
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("message-input").value.trim();
    if (!text) return;
    $("message-input").value = "";
    await send("text", { text });
  });
  $("open-extras").addEventListener("click", () => { $("extras").hidden = !$("extras").hidden; });
  $("send-sticker").addEventListener("click", () => send("sticker", { package_id: "446", sticker_id: "1988" }));
  $("send-sample-image").addEventListener("click", () => send("image", { caption: "ถนนชำรุด" }));
  $("image-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (file) await send("image", { data_base64: await fileToBase64(file), content_type: file.type || "image/jpeg" });
    event.target.value = "";
  });
  $("open-location").addEventListener("click", () => $("location-dialog").showModal());
  $("location-presets").replaceChildren(...PLACES.map((place) => {
    const button = Render.el("button", null, place.title);
    button.value = "preset";
    button.addEventListener("click", () => send("location", place));
    return button;
  }));
  $("send-custom-location").addEventListener("click", () =>
    send("location", { latitude: Number($("lat").value), longitude: Number($("lon").value), title: "ตำแหน่งที่เลือก" }));
  $("user-select").addEventListener("change", async (event) => {
    await loadPeople(event.target.value, event.target.value); resetTimeline(); await poll(); await loadRichMenu();
  });
  $("chat-select").addEventListener("change", async (event) => {
    await loadPeople(null, event.target.value); resetTimeline(); await poll(); await loadRichMenu();
  });
  $("create-user").addEventListener("click", async () => {
    const user = await call("POST", "/users", {
      display_name: $("new-user-name").value.trim() || "ประชาชนทดสอบ", language: $("new-user-lang").value, status: "stranger",
    });
    $("new-user-name").value = "";
    await loadPeople(user.user_id, user.user_id);
    resetTimeline();
    await send("follow", {});
    await loadPeople(user.user_id, user.user_id);
    $("setup").open = false;
    await loadRichMenu();
  });
  $("create-group").addEventListener("click", async () => {
    if (!state.userId) return notice("สร้างผู้ใช้ก่อน");
    const group = await call("POST", "/groups", {
      name: $("new-group-name").value.trim() || "กลุ่มทดสอบ", member_ids: state.users.map((u) => u.user_id), bot_joined: false,
    });
    $("new-group-name").value = "";
    await loadPeople(state.userId, group.group_id);
    resetTimeline();
    await send("join", {});
    return loadRichMenu();
  });
  $("follow").addEventListener("click", async () => { await send("follow", {}); await loadPeople(); });
  $("unfollow").addEventListener("click", async () => { await send("unfollow", {}); await loadPeople(); });
}

async function start() {
  wire();
  await loadPeople();
  await poll();
  await loadRichMenu();
  setInterval(() => { poll().catch(() => {}); }, 700);
  setInterval(() => { loadRichMenu().catch(() => {}); }, 5000);
}

start();
