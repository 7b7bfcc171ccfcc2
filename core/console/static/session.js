// A support session's page: chat, notes, timeline, take / transfer / invite / end,
// the device panel, and the panels plugins add — all kept current from WS /ws.
import {
  ApiError, api, chime, context, csrf, duration, el, localTime, setBadge, shortcut, showError, since, socket,
} from "./console.js";

const session = context.session;
const base = `/api/v1/sessions/${encodeURIComponent(session.id)}`;
const errorBox = document.getElementById("gp-session-error");
const readOnly = context.readOnly;
let state = session;

// ---------------------------------------------------------------------------
// Header: state, agent, queue position; actions
// ---------------------------------------------------------------------------

async function reloadSession() {
  try {
    state = await api("GET", `${base}?expand=customer,device,agent,queue`);
  } catch (error) { showError(errorBox, error); return; }
  const badge = document.getElementById("gp-session-state");
  badge.dataset.state = state.state;
  badge.textContent = state.state;
  const mine = state.agent_id === context.user.id;
  document.getElementById("gp-session-agent").textContent = state.agent
    ? `with ${state.agent.name || state.agent.email}${mine ? " (you)" : ""}` : "unassigned";
  const queue = state.queue;
  document.getElementById("gp-queue-status").textContent = state.state === "waiting" && queue?.position
    ? `#${queue.position} in the queue · waiting ${duration(since(state.waiting_since))}` : "";
  const take = document.getElementById("gp-take");
  if (take) take.hidden = mine && state.state === "active";
  const transfer = document.getElementById("gp-transfer");
  if (transfer) transfer.hidden = !(mine && state.state === "active");
  if (state.state === "ended" && !readOnly) location.reload(); // show the read-only page
  if (state.device) renderDevice(state.device_id);
}

async function take() {
  errorBox.hidden = true;
  try {
    await api("POST", `${base}/take`);
    await reloadSession();
  } catch (error) { showError(errorBox, error); }
}
document.getElementById("gp-take")?.addEventListener("click", take);

// End
const endDialog = document.getElementById("gp-end-dialog");
document.getElementById("gp-end")?.addEventListener("click", () => endDialog.showModal());
document.getElementById("gp-end-cancel")?.addEventListener("click", () => endDialog.close());
document.getElementById("gp-end-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const resolution = document.getElementById("gp-end-resolution").value.trim();
  const body = { state: "ended", outcome: document.getElementById("gp-end-outcome").value };
  if (resolution) body.resolution = resolution;
  try {
    await api("POST", `${base}/state`, body);
    location.reload();
  } catch (error) { showError(document.getElementById("gp-end-error"), error); }
});

// Transfer: agents online with room
const transferDialog = document.getElementById("gp-transfer-dialog");
document.getElementById("gp-transfer")?.addEventListener("click", async () => {
  const select = document.getElementById("gp-transfer-agent");
  select.replaceChildren(el("option", { value: "" }, "Loading…"));
  transferDialog.showModal();
  try {
    const page = await api("GET", "/api/v1/users?limit=200");
    const agents = page.items.filter((u) => u.id !== context.user.id && !u.disabled && u.availability === "online");
    select.replaceChildren(...(agents.length
      ? agents.map((u) => el("option", { value: u.id }, `${u.name || u.email} (${u.email})`))
      : [el("option", { value: "" }, "No other agent is online")]));
  } catch (error) { showError(document.getElementById("gp-transfer-error"), error); }
});
document.getElementById("gp-transfer-cancel")?.addEventListener("click", () => transferDialog.close());
document.getElementById("gp-transfer-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const agentId = document.getElementById("gp-transfer-agent").value;
  const note = document.getElementById("gp-transfer-note").value.trim();
  if (!agentId) return;
  try {
    await api("POST", `${base}/transfer`, note ? { agent_id: agentId, note } : { agent_id: agentId });
    transferDialog.close();
    await reloadSession();
  } catch (error) { showError(document.getElementById("gp-transfer-error"), error); }
});

// Invite
const inviteDialog = document.getElementById("gp-invite-dialog");
document.getElementById("gp-invite")?.addEventListener("click", async () => {
  const code = document.getElementById("gp-invite-code");
  code.textContent = "…";
  inviteDialog.showModal();
  try {
    const invite = await api("POST", `${base}/invites`);
    code.textContent = invite.code;
    document.getElementById("gp-invite-url").value = invite.url;
    document.getElementById("gp-invite-expiry").textContent = `Valid until ${localTime(invite.expires_at)}, once.`;
  } catch (error) { showError(document.getElementById("gp-invite-error"), error); }
});
document.getElementById("gp-invite-close")?.addEventListener("click", () => inviteDialog.close());
document.getElementById("gp-invite-copy")?.addEventListener("click", () => {
  const url = document.getElementById("gp-invite-url");
  url.select();
  navigator.clipboard?.writeText(url.value).catch(() => document.execCommand("copy"));
});

// ---------------------------------------------------------------------------
// Device panel
// ---------------------------------------------------------------------------

async function renderDevice(deviceId) {
  if (!deviceId) return;
  try {
    const device = await api("GET", `/api/v1/devices/${encodeURIComponent(deviceId)}`);
    for (const cell of document.querySelectorAll("#gp-device dd[data-field]")) {
      const value = device[cell.dataset.field];
      cell.textContent = value === null || value === undefined ? "—"
        : cell.dataset.field === "memory_bytes" ? `${(value / 2 ** 30).toFixed(1)} GiB` : String(value);
    }
    document.getElementById("gp-device-updated").textContent = `Updated ${localTime(device.updated_at, true)}`;
  } catch (error) { showError(errorBox, error); }
}
document.getElementById("gp-device-refresh")?.addEventListener("click", () => reloadSession());

// ---------------------------------------------------------------------------
// Chat and notes
// ---------------------------------------------------------------------------

const chat = document.getElementById("gp-chat");
const notes = document.getElementById("gp-notes");
const shown = new Set();
let unread = 0;

function message(m) {
  const author = m.author_type === "agent" ? (m.author_id === context.user.id ? "You" : m.author_name || "Agent")
    : m.author_type === "customer" ? (m.author_name || "Customer") : "guidepath";
  return el("div", { class: "gp-msg", "data-author": m.author_type, "data-kind": m.kind, "data-message-id": m.id },
    el("span", { class: "gp-msg-meta" }, `${author} · ${localTime(m.created_at)}`), m.body);
}

function addMessage(m, fresh = false) {
  if (shown.has(m.id)) return;
  shown.add(m.id);
  const box = m.kind === "note" ? notes : chat;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.append(message(m));
  if (atBottom || !fresh) box.scrollTop = box.scrollHeight;
  if (fresh && m.kind === "chat" && m.author_type === "customer") {
    typingFrom.delete(m.author_id);
    renderTyping();
    if (document.visibilityState !== "visible" || document.activeElement !== chatInput) {
      unread += 1;
      renderUnread();
      chime();
    }
  }
}

function renderUnread() {
  const badge = document.getElementById("gp-chat-unread");
  badge.hidden = unread === 0;
  badge.textContent = String(unread);
  setBadge(unread);
}

async function loadMessages() {
  try {
    let next = null;
    do {
      const page = await api("GET", `${base}/messages?limit=200${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
      page.items.forEach((m) => addMessage(m));
      next = page.next;
    } while (next);
  } catch (error) { showError(errorBox, error); }
}

const chatInput = document.getElementById("gp-chat-input");
chatInput?.addEventListener("focus", () => { unread = 0; renderUnread(); });
async function post(kind, input) {
  const body = input.value.trim();
  if (!body) return;
  input.disabled = true;
  try {
    const created = await api("POST", `${base}/messages`, { kind, body });
    addMessage(created);
    input.value = "";
    if (kind === "chat") sendTyping(false);
  } catch (error) { showError(errorBox, error); } finally {
    input.disabled = false;
    input.focus();
  }
}
document.getElementById("gp-chat-form")?.addEventListener("submit", (event) => { event.preventDefault(); post("chat", chatInput); });
chatInput?.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !canned.open) { event.preventDefault(); post("chat", chatInput); }
});
const noteInput = document.getElementById("gp-note-input");
document.getElementById("gp-note-form")?.addEventListener("submit", (event) => { event.preventDefault(); post("note", noteInput); });

// Typing indicators: ours is sent while typing and cleared after 5 s of quiet; theirs
// are shown until they stop, send, or 30 s pass.
let typingSent = false;
let typingTimer = null;
function sendTyping(typing) {
  if (typing === typingSent) return;
  typingSent = typing;
  socket.send({ type: "typing", session_id: session.id, typing });
}
chatInput?.addEventListener("input", () => {
  sendTyping(chatInput.value.length > 0);
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => sendTyping(false), 5000);
});
const typingFrom = new Map();
function renderTyping() {
  const names = [...typingFrom.values()].map((t) => t.name);
  document.getElementById("gp-typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}
socket.on("typing", (m) => {
  if (m.session_id !== session.id || m.user_id === context.user.id) return;
  clearTimeout(typingFrom.get(m.user_id)?.timer);
  if (m.typing) {
    typingFrom.set(m.user_id, { name: m.name || "Someone", timer: setTimeout(() => { typingFrom.delete(m.user_id); renderTyping(); }, 30000) });
  } else typingFrom.delete(m.user_id);
  renderTyping();
});

// Canned responses: type "/" at the start of the message to pick one.
const canned = { open: false, items: [], index: 0 };
const cannedBox = document.getElementById("gp-canned");
async function loadCanned() {
  try { canned.items = (await api("GET", "/api/v1/canned-responses?limit=200")).items; } catch { canned.items = []; }
}
function renderCanned() {
  const query = chatInput.value.slice(1).toLowerCase();
  const matches = canned.items.filter((c) => `${c.shortcut} ${c.title}`.toLowerCase().includes(query)).slice(0, 6);
  canned.open = chatInput.value.startsWith("/") && matches.length > 0;
  cannedBox.hidden = !canned.open;
  canned.index = Math.min(canned.index, Math.max(0, matches.length - 1));
  cannedBox.replaceChildren(...matches.map((c, i) => el("button", {
    type: "button", class: `gp-button gp-small${i === canned.index ? " gp-primary" : ""}`, "data-canned": c.shortcut,
    onclick: () => useCanned(c),
  }, `${c.shortcut} — ${c.title}`)));
  canned.matches = matches;
}
function useCanned(item) {
  chatInput.value = item.body;
  canned.open = false;
  cannedBox.hidden = true;
  chatInput.focus();
}
chatInput?.addEventListener("input", renderCanned);
chatInput?.addEventListener("keydown", (event) => {
  if (!canned.open) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    canned.index = (canned.index + (event.key === "ArrowDown" ? 1 : -1) + canned.matches.length) % canned.matches.length;
    renderCanned();
  } else if (event.key === "Enter" || event.key === "Tab") {
    event.preventDefault();
    useCanned(canned.matches[canned.index]);
  } else if (event.key === "Escape") { canned.open = false; cannedBox.hidden = true; }
});

// ---------------------------------------------------------------------------
// Timeline
// ---------------------------------------------------------------------------

const DESCRIBE = {
  "session.created": () => "Session opened",
  "session.state_changed": (d) => `${d.from_state} → ${d.to_state}${d.resolution ? `: ${d.resolution}` : ""}`,
  "session.transferred": () => "Transferred to another agent",
  "session.customer_joined": () => "Customer joined with an invite code",
  "session.message_posted": (d) => `${d.kind === "note" ? "Note" : "Chat"} from ${d.author_name || d.author_type}`,
  "relay.connected": (d) => `${d.role || "client"} connected (${d.kind || "relay"})`,
  "relay.disconnected": (d) => `${d.role || "client"} disconnected (${d.kind || "relay"})`,
  "run.started": () => "Guided Path started",
  "run.step_completed": (d) => `Guided Path step ${d.step_id || ""} answered`,
  "run.completed": (d) => `Guided Path finished${d.outcome ? `: ${d.outcome}` : ""}`,
};
const timeline = document.getElementById("gp-timeline");
const timelineSeen = new Set();
function addTimeline(entry) {
  const id = entry.event_id || entry.id;
  if (timelineSeen.has(id)) return;
  timelineSeen.add(id);
  const text = (DESCRIBE[entry.type] || (() => entry.type))(entry.data || {});
  timeline.append(el("li", { "data-type": entry.type }, el("time", { datetime: entry.at || entry.time }, localTime(entry.at || entry.time)), text));
  timeline.scrollTop = timeline.scrollHeight;
}
async function loadTimeline() {
  try {
    let next = null;
    do {
      const page = await api("GET", `${base}/timeline?limit=200${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
      page.items.forEach(addTimeline);
      next = page.next;
    } while (next);
  } catch (error) { showError(errorBox, error); }
}

// ---------------------------------------------------------------------------
// Live events of this session
// ---------------------------------------------------------------------------

socket.on("*", (event) => {
  if (event.data?.session_id !== session.id || !event.id) return;
  addTimeline({ event_id: event.id, type: event.type, at: event.time, data: event.data });
  if (event.type === "session.message_posted") {
    addMessage({ id: event.data.message_id, kind: event.data.kind, author_type: event.data.author_type,
      author_id: event.data.author_id, author_name: event.data.author_name, body: event.data.body, created_at: event.time }, true);
  } else if (event.type.startsWith("session.")) {
    reloadSession();
  }
});
socket.onReconnect(() => { reloadSession(); loadMessages(); loadTimeline(); });

// ---------------------------------------------------------------------------
// Plugins' panels: import each module and mount it
// ---------------------------------------------------------------------------

for (const panel of context.panels || []) {
  const section = document.querySelector(`[data-panel="${CSS.escape(panel.key)}"] .gp-panel-body`);
  import(panel.module)
    .then((module) => module.mount(section, { session, csrfToken: csrf, readOnly, socket, api }))
    .catch((error) => showError(errorBox, new Error(`The "${panel.key}" panel failed to load: ${error.message}`)));
}

// ---------------------------------------------------------------------------
// Shortcuts
// ---------------------------------------------------------------------------

if (!readOnly) {
  shortcut("t", "Take this session", () => document.getElementById("gp-take")?.click());
  shortcut("c", "Focus the chat", () => chatInput?.focus());
  shortcut("e", "End this session", () => document.getElementById("gp-end")?.click());
  shortcut("i", "Invite the customer", () => document.getElementById("gp-invite")?.click());
}
shortcut("g q", "Back to the queue", () => location.assign("/queue"));

reloadSession();
loadMessages();
loadTimeline();
if (!readOnly) loadCanned();
document.body.dataset.ready = "true";
