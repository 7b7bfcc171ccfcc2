// The queue: waiting and active sessions, kept current from WS /ws (no polling).
import { ApiError, api, chime, context, duration, el, setBadge, shortcut, showError, since, socket } from "./console.js";

const EXPAND = "customer,device,agent,queue";
const rows = document.getElementById("gp-queue-rows");
const empty = document.getElementById("gp-queue-empty");
const errorBox = document.getElementById("gp-queue-error");
const onlyMine = document.getElementById("gp-filter-mine");
const sessions = new Map();
const seen = new Set();
let selected = null;
let loaded = false;

const ORDER = { waiting: 0, created: 1, active: 2 };
export const customerName = (customer) =>
  customer ? ([customer.name].filter(Boolean).join(" ") || customer.email || "Unnamed customer") : "Anonymous customer";

function waitingSeconds(session) {
  return since(session.waiting_since || session.created_at);
}

function sorted() {
  return [...sessions.values()]
    .filter((s) => !onlyMine.checked || s.agent_id === context.user.id)
    .sort((a, b) => (ORDER[a.state] - ORDER[b.state])
      || Date.parse(a.waiting_since || a.created_at) - Date.parse(b.waiting_since || b.created_at));
}

function row(session) {
  const mine = session.agent_id === context.user.id;
  const open = el("a", { class: "gp-button gp-small", href: `/sessions/${session.id}`, "data-action": "open" }, "Open");
  const takeButton = session.state === "active" && !mine ? null
    : el("button", { type: "button", class: "gp-button gp-small gp-primary", "data-action": "take",
      onclick: () => take(session.id) }, mine ? "Continue" : "Take");
  const position = session.queue?.position ? ` · #${session.queue.position}` : "";
  return el("tr", { "data-session-id": session.id, "data-state": session.state, "aria-selected": session.id === selected ? "true" : "false",
    class: seen.has(session.id) ? "" : "gp-new" },
    el("td", {}, el("strong", { class: "gp-customer" }, customerName(session.customer)),
      session.customer?.email ? el("div", { class: "gp-muted gp-small" }, session.customer.email) : null),
    el("td", { class: "gp-small" }, session.device?.summary || el("span", { class: "gp-muted" }, "no device yet")),
    el("td", {}, el("span", { class: "gp-badge", "data-state": session.state }, session.state), 
      el("span", { class: "gp-muted gp-small" }, position)),
    el("td", { class: "gp-waiting", "data-since": session.waiting_since || session.created_at },
      session.state === "active" ? "—" : duration(waitingSeconds(session))),
    el("td", { class: "gp-small" }, session.agent ? (session.agent.name || session.agent.email) + (mine ? " (you)" : "")
      : el("span", { class: "gp-muted" }, "unassigned")),
    el("td", { class: "gp-row-actions" }, takeButton, " ", open));
}

// Rows are kept while what they show is unchanged, so a live update never swaps the
// element under the agent's pointer or keyboard focus.
const drawn = new Map();
function render() {
  const list = sorted();
  if (selected && !sessions.has(selected)) selected = null;
  const nodes = list.map((session) => {
    const key = JSON.stringify([session.state, session.agent_id, session.agent?.name, session.customer,
      session.device?.summary, session.queue?.position, session.waiting_since, session.id === selected, seen.has(session.id)]);
    const known = drawn.get(session.id);
    if (known?.key === key) return known.node;
    const node = row(session);
    drawn.set(session.id, { key, node });
    return node;
  });
  for (const id of drawn.keys()) if (!sessions.has(id)) drawn.delete(id);
  const current = [...rows.children];
  if (current.length !== nodes.length || nodes.some((node, i) => current[i] !== node)) rows.replaceChildren(...nodes);
  empty.hidden = list.length > 0;
  const waiting = [...sessions.values()].filter((s) => s.state === "waiting");
  document.getElementById("gp-waiting-count").textContent = `${waiting.length} waiting`;
  document.getElementById("gp-mine-count").textContent =
    `${[...sessions.values()].filter((s) => s.agent_id === context.user.id && s.state === "active").length} mine`;
  const unread = waiting.filter((s) => !seen.has(s.id)).length;
  setBadge(unread);
  document.body.dataset.unread = String(unread);
  if (document.visibilityState === "visible" && document.hasFocus()) markSeenSoon();
  document.getElementById("gp-offline-hint").hidden = context.user.availability === "online";
}

let seenTimer = null;
function markSeenSoon() {
  clearTimeout(seenTimer);
  seenTimer = setTimeout(() => {
    for (const id of sessions.keys()) seen.add(id);
    const unread = 0;
    setBadge(unread);
    document.body.dataset.unread = "0";
  }, 4000);
}
window.addEventListener("focus", markSeenSoon);

async function load() {
  try {
    const items = [];
    let next = null;
    do {
      const page = await api("GET", `/api/v1/sessions?state=live&expand=${EXPAND}&limit=200${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
      items.push(...page.items);
      next = page.next;
    } while (next && items.length < 2000);
    sessions.clear();
    for (const session of items) {
      sessions.set(session.id, session);
      if (!loaded) seen.add(session.id); // what was there when the page opened is not new work
    }
    loaded = true;
    if (errorBox.dataset.source === "load") errorBox.hidden = true; // an action's error stays until read
    render();
    document.body.dataset.ready = "true";
  } catch (error) {
    showError(errorBox, error);
    errorBox.dataset.source = "load";
  }
}

async function refresh(sessionId) {
  try {
    const session = await api("GET", `/api/v1/sessions/${encodeURIComponent(sessionId)}?expand=${EXPAND}`);
    const before = sessions.get(sessionId);
    if (session.state === "ended") sessions.delete(sessionId);
    else sessions.set(sessionId, session);
    if (session.state === "waiting" && before?.state !== "waiting") {
      seen.delete(sessionId);
      if (session.agent_id !== context.user.id) chime();
    }
    render();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) { sessions.delete(sessionId); render(); }
  }
}

async function take(sessionId) {
  errorBox.hidden = true;
  try {
    await api("POST", `/api/v1/sessions/${encodeURIComponent(sessionId)}/take`);
    location.assign(`/sessions/${sessionId}`);
  } catch (error) {
    showError(errorBox, error);
    errorBox.dataset.source = "take";
    refresh(sessionId);
  }
}

// Positions change for everyone when one session moves: re-read the waiting ones.
let positionsTimer = null;
function refreshPositionsSoon() {
  clearTimeout(positionsTimer);
  positionsTimer = setTimeout(load, 300);
}

socket.on("*", (message) => {
  const sessionId = message.data?.session_id;
  if (!sessionId || !message.type?.startsWith("session.")) return;
  if (message.type === "session.state_changed" && (message.data.from_state === "waiting" || message.data.to_state === "waiting")) {
    refreshPositionsSoon();
  }
  refresh(sessionId);
});
socket.on("agent.availability_changed", (message) => {
  if (message.data?.user_id === context.user.id) {
    context.user.availability = message.data.availability;
    render();
  }
});
socket.onReconnect(load);
onlyMine.addEventListener("change", render);

setInterval(() => {
  for (const cell of rows.querySelectorAll("tr[data-state='waiting'] .gp-waiting, tr[data-state='created'] .gp-waiting")) {
    cell.textContent = duration(since(cell.dataset.since));
  }
}, 1000);

function move(step) {
  const list = sorted();
  if (!list.length) return;
  const index = list.findIndex((s) => s.id === selected);
  selected = list[Math.max(0, Math.min(list.length - 1, index + step))].id;
  render();
  rows.querySelector(`tr[data-session-id="${CSS.escape(selected)}"]`)?.scrollIntoView({ block: "nearest" });
}
shortcut("j", "Next session in the queue", () => move(1));
shortcut("k", "Previous session in the queue", () => move(-1));
shortcut("Enter", "Open the selected session", () => { if (selected) location.assign(`/sessions/${selected}`); });
shortcut("t", "Take the selected session", () => { if (selected) take(selected); });

load();
