// Start a session: find or create the customer, open a session assigned to me, invite
// the customer with a code, and see them join live (WS /ws: session.customer_joined).
import { api, context, el, localTime, showError, socket } from "./console.js";

const errorBox = document.getElementById("gp-start-error");
const rows = document.getElementById("gp-find-rows");
const results = document.getElementById("gp-find-results");
const empty = document.getElementById("gp-find-empty");
const panel = document.getElementById("gp-invite-panel");
let current = null; // {session, customer}

export const customerName = (c) =>
  c ? ([c.first_name, c.last_name].filter(Boolean).join(" ") || c.email || c.phone || "Unnamed customer") : "";

// ---------------------------------------------------------------------------
// Find or create the customer
// ---------------------------------------------------------------------------

async function search(event) {
  event?.preventDefault();
  errorBox.hidden = true;
  const q = document.getElementById("gp-find-q").value.trim();
  try {
    const page = await api("GET", `/api/v1/customers?limit=20${q ? `&q=${encodeURIComponent(q)}` : ""}`);
    rows.replaceChildren(...page.items.map((c) => el("tr", { "data-customer-id": c.id },
      el("td", {}, el("strong", { class: "gp-customer" }, customerName(c))),
      el("td", { class: "gp-small" }, c.email || "—"),
      el("td", { class: "gp-small" }, c.phone || "—"),
      el("td", { class: "gp-row-actions" }, el("button", {
        type: "button", class: "gp-button gp-small gp-primary", "data-action": "start", onclick: () => start(c),
      }, "Start session")))));
    results.hidden = page.items.length === 0;
    empty.hidden = page.items.length > 0;
  } catch (error) { showError(errorBox, error); }
}
document.getElementById("gp-find-form").addEventListener("submit", search);

document.getElementById("gp-new-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = document.getElementById("gp-new-error");
  box.hidden = true;
  const fields = { first_name: "gp-new-first", last_name: "gp-new-last", email: "gp-new-email", phone: "gp-new-phone" };
  const body = {};
  for (const [name, id] of Object.entries(fields)) {
    const input = document.getElementById(id);
    input.removeAttribute("aria-invalid");
    if (input.value.trim()) body[name] = input.value.trim();
  }
  if (!Object.keys(body).length) {
    showError(box, new Error("Give at least a name, an email or a phone number."));
    document.getElementById("gp-new-first").focus();
    return;
  }
  const submit = document.getElementById("gp-new-submit");
  submit.disabled = true;
  try {
    const customer = await api("POST", "/api/v1/customers", body);
    await start(customer);
  } catch (error) {
    showError(box, error);
    if (error.field && fields[error.field]) document.getElementById(fields[error.field]).setAttribute("aria-invalid", "true");
  } finally { submit.disabled = false; }
});

document.getElementById("gp-start-anonymous").addEventListener("click", () => start(null));

// ---------------------------------------------------------------------------
// Open the session and invite
// ---------------------------------------------------------------------------

async function start(customer) {
  errorBox.hidden = true;
  try {
    const body = { agent_id: context.user.id };
    if (customer) body.customer_id = customer.id;
    const session = await api("POST", "/api/v1/sessions", body);
    current = { session, customer };
    document.getElementById("gp-start-choose").hidden = true;
    panel.hidden = false;
    document.getElementById("gp-invite-customer").textContent = customer ? customerName(customer) : "the customer";
    document.getElementById("gp-open-session").href = `/sessions/${encodeURIComponent(session.id)}`;
    history.replaceState(null, "", `/sessions/new`);
    await invite();
  } catch (error) { showError(errorBox, error); }
}

async function invite() {
  const code = document.getElementById("gp-invite-code");
  code.textContent = "…";
  try {
    const made = await api("POST", `/api/v1/sessions/${encodeURIComponent(current.session.id)}/invites`);
    code.textContent = made.code;
    document.getElementById("gp-invite-url").value = made.url;
    document.getElementById("gp-invite-expiry").textContent = `Valid until ${localTime(made.expires_at)}, once.`;
    document.body.dataset.invited = "true";
  } catch (error) { showError(errorBox, error); }
}
document.getElementById("gp-invite-again").addEventListener("click", invite);

document.getElementById("gp-invite-copy").addEventListener("click", async () => {
  const url = document.getElementById("gp-invite-url");
  const button = document.getElementById("gp-invite-copy");
  try { await navigator.clipboard.writeText(url.value); } catch { url.select(); document.execCommand("copy"); }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy link"; }, 2000);
});

// ---------------------------------------------------------------------------
// The customer joins (live)
// ---------------------------------------------------------------------------

async function joined() {
  if (!current || document.body.dataset.joined === "true") return;
  document.body.dataset.joined = "true";
  document.getElementById("gp-join-waiting").hidden = true;
  document.getElementById("gp-joined").hidden = false;
  document.getElementById("gp-invite-again").disabled = true;
  try {
    const session = await api("GET", `/api/v1/sessions/${encodeURIComponent(current.session.id)}?expand=customer,queue`);
    const name = session.customer ? (session.customer.name || session.customer.email) : null;
    document.getElementById("gp-joined-detail").textContent =
      `${name ? `${name} is` : "They are"} waiting${session.queue?.position ? ` (#${session.queue.position} in the queue)` : ""}.`;
    if (name) document.getElementById("gp-invite-customer").textContent = name;
  } catch { /* the notice stands without the detail */ }
  document.getElementById("gp-open-session").focus();
}

socket.on("*", (event) => {
  if (!current || event.data?.session_id !== current.session.id) return;
  if (event.type === "session.customer_joined"
    || (event.type === "session.state_changed" && event.data.from_state === "created" && event.data.to_state === "waiting")) {
    joined();
  }
});
// Ask the session itself after a gap in the socket, and every few seconds while
// waiting: events reach sockets at most once, and a page waiting for one customer
// must not wait forever for an event that was lost or is late.
async function checkJoined() {
  if (!current || document.body.dataset.joined === "true") return;
  try {
    const session = await api("GET", `/api/v1/sessions/${encodeURIComponent(current.session.id)}`);
    if (session.state !== "created") joined();
  } catch { /* the next event or check will tell */ }
}
socket.onReconnect(checkJoined);
setInterval(checkJoined, 5000);

search();
document.body.dataset.ready = "true";
