// The customer's join page: redeem the code, then the queue position and the chat,
// with the customer token (Bearer) kept in sessionStorage so a reload resumes.
// Customers have no socket yet: the queue is polled every 4 s, the chat every 2 s.
import { duration, el, localTime } from "./console.js";

const STORE = "guidepath.join";
const QUEUE_EVERY_MS = 4000;
const CHAT_EVERY_MS = 2000;
const $ = (id) => document.getElementById(id);

let joinedSession = null; // {session_id, token, expires_at}
let timers = [];

class JoinError extends Error {
  constructor(status, error, retryAfter) {
    super(error?.message || `request failed (${status})`);
    this.status = status;
    this.code = error?.code || "error";
    this.retryAfter = retryAfter;
  }
}

async function call(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new JoinError(response.status, data?.error, response.headers.get("Retry-After"));
  return data;
}

// ---------------------------------------------------------------------------
// Redeeming the code
// ---------------------------------------------------------------------------

const MESSAGES = {
  invite_not_found: "We don't know this code. Check it and try again — it looks like K7QF-3MZD.",
  invite_used: "This code has already been used. Ask your agent for a new one.",
  invite_expired: "This code has expired. Ask your agent for a new one.",
  session_ended: "This support session has already ended. Ask your agent for a new code.",
};

function explain(error) {
  if (error.status === 429) {
    const seconds = Number(error.retryAfter) || 60;
    return `Too many attempts. Please wait ${seconds} seconds and try again.`;
  }
  if (MESSAGES[error.code]) return MESSAGES[error.code];
  if (error.status === 422) return "Please check the code and your name.";
  if (error.status === 0 || error instanceof TypeError) return "We couldn't reach the service. Check your connection and try again.";
  return error.message;
}

function showJoinError(text) {
  const box = $("gp-join-error");
  box.textContent = text;
  box.hidden = false;
}

$("gp-join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("gp-join-error").hidden = true;
  const code = $("gp-join-code").value.trim();
  const name = $("gp-join-name").value.trim();
  if (!code) { showJoinError("Enter the code your agent gave you."); $("gp-join-code").focus(); return; }
  const body = { code };
  if (name) {
    const [first, ...rest] = name.split(/\s+/);
    body.customer = rest.length ? { first_name: first, last_name: rest.join(" ") } : { first_name: first };
  }
  $("gp-join-submit").disabled = true;
  try {
    const redeemed = await call("POST", "/api/v1/invites/redeem", body);
    joinedSession = { session_id: redeemed.session_id, token: redeemed.token, expires_at: redeemed.expires_at, name };
    sessionStorage.setItem(STORE, JSON.stringify(joinedSession));
    history.replaceState(null, "", "/join"); // the used code leaves the address bar
    enter();
  } catch (error) {
    showJoinError(explain(error));
    $("gp-join-code").select();
  } finally { $("gp-join-submit").disabled = false; }
});

function leave(message) {
  timers.forEach(clearInterval);
  timers = [];
  sessionStorage.removeItem(STORE);
  joinedSession = null;
  $("gp-joined-view").hidden = true;
  $("gp-join-code-card").hidden = false;
  $("gp-join-code").value = "";
  if (message) showJoinError(message);
  document.body.dataset.joined = "false";
}
$("gp-leave").addEventListener("click", () => leave());

// ---------------------------------------------------------------------------
// Joined: the queue and the chat
// ---------------------------------------------------------------------------

function enter() {
  $("gp-join-code-card").hidden = true;
  $("gp-joined-view").hidden = false;
  document.body.dataset.joined = "true";
  refreshStatus();
  refreshChat();
  timers.push(setInterval(refreshStatus, QUEUE_EVERY_MS), setInterval(refreshChat, CHAT_EVERY_MS));
  $("gp-chat-input").focus();
}

function handleAuthFailure(error) {
  if (error.status === 401 || error.status === 403) {
    leave("Your session link has expired. Ask your agent for a new code.");
    return true;
  }
  return false;
}

async function refreshStatus() {
  if (!joinedSession) return;
  const base = `/api/v1/sessions/${encodeURIComponent(joinedSession.session_id)}`;
  try {
    const [session, queue] = await Promise.all([
      call("GET", base, undefined, joinedSession.token),
      call("GET", `${base}/queue`, undefined, joinedSession.token),
    ]);
    const status = $("gp-status");
    const wait = $("gp-wait");
    status.dataset.state = session.state;
    if (session.state === "active") {
      status.textContent = `${session.agent_name || "Your agent"} is with you now.`;
      wait.textContent = "";
    } else if (session.state === "ended") {
      status.textContent = "This support session has ended. Thank you!";
      wait.textContent = "";
      $("gp-chat-form").hidden = true;
      timers.forEach(clearInterval);
      timers = [];
      sessionStorage.removeItem(STORE);
    } else if (queue.position) {
      status.textContent = queue.position === 1 ? "You're next in line." : `You're number ${queue.position} in line.`;
      wait.textContent = queue.estimated_wait_seconds === null ? "An agent will be with you as soon as possible."
        : queue.estimated_wait_seconds === 0 ? "An agent should be with you any moment."
          : `Estimated wait: about ${duration(queue.estimated_wait_seconds)}.`;
    } else {
      status.textContent = "Waiting for your agent…";
      wait.textContent = "";
    }
    status.dataset.position = queue.position ?? "";
  } catch (error) { handleAuthFailure(error); }
}

const shown = new Set();
let resume = null; // the cursor of the last page read; the newest messages are on it or after it

function addMessage(m) {
  if (shown.has(m.id)) return;
  shown.add(m.id);
  $("gp-chat-empty")?.remove();
  const mine = m.author_type === "customer";
  const box = $("gp-chat");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.append(el("div", { class: "gp-msg", "data-author": mine ? "customer" : m.author_type, "data-message-id": m.id },
    el("span", { class: "gp-msg-meta" }, `${mine ? "You" : (m.author_name || "Agent")} · ${localTime(m.created_at)}`), m.body));
  if (atBottom || mine) box.scrollTop = box.scrollHeight;
}

let chatBusy = false;
async function refreshChat() {
  if (!joinedSession || chatBusy) return;
  chatBusy = true;
  const base = `/api/v1/sessions/${encodeURIComponent(joinedSession.session_id)}/messages?limit=200`;
  try {
    let cursor = resume;
    for (let pages = 0; pages < 50; pages += 1) {
      const page = await call("GET", cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base, undefined, joinedSession.token);
      page.items.forEach(addMessage);
      if (!page.next) break;
      cursor = resume = page.next;
    }
    $("gp-chat-error").hidden = true;
  } catch (error) {
    if (!handleAuthFailure(error)) { $("gp-chat-error").textContent = explain(error); $("gp-chat-error").hidden = false; }
  } finally { chatBusy = false; }
}

async function send() {
  const input = $("gp-chat-input");
  const body = input.value.trim();
  if (!body || !joinedSession) return;
  input.disabled = true;
  try {
    const created = await call("POST", `/api/v1/sessions/${encodeURIComponent(joinedSession.session_id)}/messages`,
      { kind: "chat", body }, joinedSession.token);
    addMessage(created);
    input.value = "";
    $("gp-chat-error").hidden = true;
  } catch (error) {
    if (!handleAuthFailure(error)) { $("gp-chat-error").textContent = explain(error); $("gp-chat-error").hidden = false; }
  } finally { input.disabled = false; input.focus(); }
}
$("gp-chat-form").addEventListener("submit", (event) => { event.preventDefault(); send(); });
$("gp-chat-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
});

// ---------------------------------------------------------------------------
// Resume after a reload
// ---------------------------------------------------------------------------

try {
  const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
  if (saved?.token && saved?.session_id && Date.parse(saved.expires_at) > Date.now()) {
    joinedSession = saved;
    enter();
  } else if (saved) sessionStorage.removeItem(STORE);
} catch { sessionStorage.removeItem(STORE); }
if (!joinedSession) $("gp-join-code").value ? $("gp-join-name").focus() : $("gp-join-code").focus();
document.body.dataset.ready = "true";
