// The embeddable agent view (docs/embedding.md): signs in inside the frame, then
// speaks a small postMessage API with the host page — only with the allowed origin
// that frames it, never "*":
//   host → embed  {type: "guidepath:start-session", customer: {...}, request_id?}
//                 {type: "guidepath:open-session", session_id, request_id?}
//   embed → host  {type: "guidepath:ready", signed_in, user}
//                 {type: "guidepath:session-started", request_id, session_id, customer_id, invite: {code, url, expires_at}}
//                 {type: "guidepath:session-opened", request_id, session_id, state}
//                 {type: "guidepath:event", session_id, event: {id, type, time, data}}   (sessions it opened)
//                 {type: "guidepath:error", request_id, code, message}
import { ApiError, api, context, el, localTime, showError, socket } from "./console.js";

const allowed = new Set(context.allowedOrigins || []);
const $ = (id) => document.getElementById(id);
const framed = window.parent !== window;

// Which allowed origin frames us: the browser's list of ancestors, or the referrer.
function framingOrigin() {
  const candidates = [location.ancestorOrigins?.[0]];
  try { if (document.referrer) candidates.push(new URL(document.referrer).origin); } catch { /* no referrer */ }
  return candidates.find((origin) => origin && allowed.has(origin)) || null;
}
let hostOrigin = framed ? framingOrigin() : null;

function post(message) {
  if (framed && hostOrigin) window.parent.postMessage(message, hostOrigin);
}

// ---------------------------------------------------------------------------
// Signed out: the sign-in form (a partitioned cookie for this host site)
// ---------------------------------------------------------------------------

const signin = $("gp-embed-signin");
if (signin) {
  signin.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("gp-embed-signin-error");
    box.hidden = true;
    const email = $("gp-embed-email").value.trim();
    const password = $("gp-embed-password").value;
    if (!email || !password) { showError(box, new Error("Enter your email and password.")); return; }
    try {
      await api("POST", "/embed/agent/sign-in", { email, password });
      location.reload();
    } catch (error) {
      showError(box, error instanceof ApiError && error.status === 401 ? new Error("Wrong email or password.") : error);
    }
  });
  post({ type: "guidepath:ready", signed_in: false, user: null });
}

// ---------------------------------------------------------------------------
// Signed in: one session at a time on screen; events of every session opened here
// ---------------------------------------------------------------------------

const opened = new Set();
let current = null;

const customerName = (c) => c ? ([c.first_name, c.last_name].filter(Boolean).join(" ") || c.name || c.email || "Unnamed customer")
  : "Anonymous customer";

function showSession(session, customer, invite) {
  current = session.id;
  $("gp-embed-idle").hidden = true;
  $("gp-embed-session").hidden = false;
  $("gp-embed-customer").textContent = customerName(customer);
  $("gp-embed-open").href = `/sessions/${encodeURIComponent(session.id)}`;
  $("gp-embed-invite").hidden = !invite;
  if (invite) {
    $("gp-embed-code").textContent = invite.code;
    $("gp-embed-url").textContent = `${invite.url} · valid until ${localTime(invite.expires_at)}`;
  }
  $("gp-chat").replaceChildren();
  shown.clear();
  renderState(session);
  loadMessages();
}

function renderState(session) {
  const badge = $("gp-embed-state");
  badge.textContent = session.state;
  badge.dataset.state = session.state;
  $("gp-embed-take").hidden = !(session.state === "waiting" || (session.state === "created" && session.agent_id !== context.user.id));
  $("gp-embed-queue").textContent = session.state === "waiting" && session.queue?.position
    ? `Customer joined · #${session.queue.position} in the queue` : session.state === "active" ? "In progress" : "";
  $("gp-chat-form").hidden = session.state === "ended";
}

async function reload(sessionId) {
  const session = await api("GET", `/api/v1/sessions/${encodeURIComponent(sessionId)}?expand=customer,queue`);
  if (sessionId === current) renderState(session);
  return session;
}

const shown = new Set();
function addMessage(m) {
  if (shown.has(m.id) || m.kind === "note") return;
  shown.add(m.id);
  const author = m.author_type === "agent" ? (m.author_id === context.user.id ? "You" : m.author_name || "Agent")
    : m.author_type === "customer" ? (m.author_name || "Customer") : "guidepath";
  const chat = $("gp-chat");
  chat.append(el("div", { class: "gp-msg", "data-author": m.author_type, "data-message-id": m.id },
    el("span", { class: "gp-msg-meta" }, `${author} · ${localTime(m.created_at)}`), m.body));
  chat.scrollTop = chat.scrollHeight;
}

async function loadMessages() {
  const sessionId = current;
  try {
    let next = null;
    do {
      const page = await api("GET", `/api/v1/sessions/${encodeURIComponent(sessionId)}/messages?kind=chat&limit=200${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
      if (sessionId !== current) return;
      page.items.forEach(addMessage);
      next = page.next;
    } while (next);
  } catch (error) { showError($("gp-embed-error"), error); }
}

$("gp-chat-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("gp-chat-input");
  const body = input.value.trim();
  if (!body || !current) return;
  try {
    addMessage(await api("POST", `/api/v1/sessions/${encodeURIComponent(current)}/messages`, { kind: "chat", body }));
    input.value = "";
  } catch (error) { showError($("gp-embed-error"), error); }
});
$("gp-embed-take")?.addEventListener("click", async () => {
  try {
    await api("POST", `/api/v1/sessions/${encodeURIComponent(current)}/take`);
    await reload(current);
  } catch (error) { showError($("gp-embed-error"), error); }
});
$("gp-embed-signout")?.addEventListener("click", async () => {
  try { await api("POST", "/api/v1/auth/logout"); } catch { /* signed out already */ }
  location.reload();
});

// The customer the host names: found by exact email when given, else created.
const CUSTOMER_FIELDS = ["first_name", "last_name", "email", "phone"];
async function customerFor(given) {
  if (given === null || given === undefined) return null;
  if (typeof given !== "object" || Array.isArray(given)) throw new ApiError(422, { code: "invalid", message: "customer must be an object" });
  const fields = Object.fromEntries(CUSTOMER_FIELDS.filter((k) => typeof given[k] === "string" && given[k].trim())
    .map((k) => [k, given[k].trim()]));
  if (!Object.keys(fields).length) return null;
  if (fields.email) {
    const page = await api("GET", `/api/v1/customers?limit=20&q=${encodeURIComponent(fields.email)}`);
    const found = page.items.find((c) => (c.email || "").toLowerCase() === fields.email.toLowerCase());
    if (found) return found;
  }
  return api("POST", "/api/v1/customers", fields);
}

async function startSession(message) {
  const customer = await customerFor(message.customer);
  const body = { agent_id: context.user.id };
  if (customer) body.customer_id = customer.id;
  const session = await api("POST", "/api/v1/sessions", body);
  const invite = await api("POST", `/api/v1/sessions/${encodeURIComponent(session.id)}/invites`);
  opened.add(session.id);
  showSession(session, customer, invite);
  post({ type: "guidepath:session-started", request_id: message.request_id ?? null, session_id: session.id,
    customer_id: customer?.id ?? null, invite: { code: invite.code, url: invite.url, expires_at: invite.expires_at } });
}

async function openSession(message) {
  if (typeof message.session_id !== "string" || !message.session_id) {
    throw new ApiError(422, { code: "invalid", message: "session_id is required", field: "session_id" });
  }
  const session = await api("GET", `/api/v1/sessions/${encodeURIComponent(message.session_id)}?expand=customer,queue`);
  opened.add(session.id);
  showSession(session, session.customer, null);
  post({ type: "guidepath:session-opened", request_id: message.request_id ?? null, session_id: session.id, state: session.state });
}

const HANDLERS = { "guidepath:start-session": startSession, "guidepath:open-session": openSession };

if (context.user) {
  window.addEventListener("message", async (event) => {
    // Only the page that frames us, from an allowed origin; anything else is ignored.
    if (event.source !== window.parent || !allowed.has(event.origin)) return;
    if (hostOrigin && event.origin !== hostOrigin) return;
    hostOrigin = hostOrigin || event.origin;
    const message = event.data;
    const handler = message && typeof message === "object" ? HANDLERS[message.type] : null;
    if (!handler) return;
    try { await handler(message); } catch (error) {
      showError($("gp-embed-error"), error);
      post({ type: "guidepath:error", request_id: message.request_id ?? null, code: error.code || "error", message: error.message });
    }
  });

  socket.on("*", (event) => {
    const sessionId = event.data?.session_id;
    if (!event.id || !sessionId || !opened.has(sessionId)) return;
    post({ type: "guidepath:event", session_id: sessionId, event: { id: event.id, type: event.type, time: event.time, data: event.data } });
    if (sessionId !== current) return;
    if (event.type === "session.message_posted" && event.data.kind === "chat") {
      addMessage({ id: event.data.message_id, kind: "chat", author_type: event.data.author_type, author_id: event.data.author_id,
        author_name: event.data.author_name, body: event.data.body, created_at: event.time });
    } else if (event.type.startsWith("session.")) {
      reload(sessionId).catch(() => {});
    }
  });
  socket.onReconnect(() => { if (current) { reload(current).catch(() => {}); loadMessages(); } });
  post({ type: "guidepath:ready", signed_in: true, user: { id: context.user.id, name: context.user.name, email: context.user.email } });
}
if (framed && !hostOrigin) {
  // Framed by a page we cannot identify as allowed (the browser would not have let
  // any other origin frame us): say so instead of talking to nobody.
  $("gp-embed-idle-text") && ($("gp-embed-idle-text").textContent = "Waiting for the portal…");
}
document.body.dataset.ready = "true";
