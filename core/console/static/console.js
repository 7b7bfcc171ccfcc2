// The console's shared module: API calls with CSRF, the live socket, the menu bar
// (availability, sign-out), keyboard shortcuts, and new-work signals (favicon badge,
// sound). Every page's entry module imports it as "/console/assets/console.js" (or
// "./console.js") so one instance — one socket — serves the page.
//
// Untrusted text (customer names, chat, notes, titles) only ever reaches the page as
// textContent through el(); nothing here sets innerHTML.

const contextElement = document.getElementById("gp-context");
export const context = contextElement ? JSON.parse(contextElement.textContent) : {};
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";
export const csrf = csrfToken;

// ---------------------------------------------------------------------------
// DOM
// ---------------------------------------------------------------------------

/** el("a", {href: "/x", class: "gp-button"}, "text", childNode) — text is always text. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) { return root.querySelector(selector); }

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
}

export function since(iso) {
  return iso ? (Date.now() - Date.parse(iso)) / 1000 : null;
}

export function localTime(iso, withDate = false) {
  if (!iso) return "—";
  const date = new Date(iso);
  return withDate ? date.toLocaleString() : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// ---------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `request failed (${status})`);
    this.status = status;
    this.code = error?.code || "error";
    this.field = error?.field || null;
    this.issues = error?.issues || [];
  }
}

/** JSON in, JSON out; cookie session plus the page's CSRF token on writes. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && context.user) {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, { code: "unauthorized", message: "signed out" });
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

/** Show an API error (or any error) in an alert element; returns the error. */
export function showError(target, error) {
  if (!target) return error;
  target.textContent = error instanceof ApiError || error?.message ? error.message : String(error);
  target.hidden = false;
  return error;
}

/** Remove the field errors a form shows. */
export function clearFieldErrors(form) {
  form.querySelectorAll(".gp-field-error").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/** Show an API error at the form's input its `field` names (the first segment of a
 * dotted field, "settings.colour" → "settings"); false when no visible input matches. */
export function showFieldError(form, error) {
  const name = (error?.field || "").split(".")[0];
  const input = name ? form.elements.namedItem(name) : null;
  if (!(input instanceof HTMLElement) || input.closest("[hidden]")) return false;
  const id = `${input.id || name}-error`;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", id);
  input.closest(".gp-field")?.append(el("small", { class: "gp-field-error", id, role: "alert" }, error.message));
  input.focus();
  return true;
}

// ---------------------------------------------------------------------------
// The live socket (WS /ws): events of the account, typing, presence
// ---------------------------------------------------------------------------

class LiveSocket {
  constructor() {
    this.handlers = new Map();
    this.reconnectHandlers = new Set();
    this.socket = null;
    this.attempt = 0;
    this.opened = false;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    this.status("connecting");
    socket.addEventListener("message", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (data.type === "hello") {
        const reconnected = this.opened;
        this.opened = true;
        this.attempt = 0;
        this.status("open");
        // Fan-out is at most once: after a gap, pages re-read their state.
        if (reconnected) this.reconnectHandlers.forEach((handler) => handler());
      }
      if (data.dropped_before) this.reconnectHandlers.forEach((handler) => handler());
      // Events arrive as {"type": "event", "event": {id, type, time, data}}; handlers
      // subscribe to the event's own type ("session.created") and get the envelope.
      if (data.type === "event" && data.event) this.dispatch(data.event.type, data.event);
      else this.dispatch(data.type, data);
    });
    socket.addEventListener("close", () => {
      this.status("closed");
      const delay = Math.min(15000, 500 * 2 ** this.attempt++) * (0.75 + Math.random() / 2);
      setTimeout(() => this.connect(), delay);
    });
  }

  dispatch(type, data) {
    for (const key of [type, "*"]) (this.handlers.get(key) || []).forEach((handler) => handler(data));
  }

  /** on("session.state_changed", fn) — or "*" for every message; returns an unsubscribe function. */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type).delete(handler);
  }

  onReconnect(handler) {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  status(state) {
    const indicator = document.getElementById("gp-live");
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.textContent = { open: "live", connecting: "connecting…", closed: "reconnecting…" }[state];
  }
}

export const socket = new LiveSocket();

// ---------------------------------------------------------------------------
// New work: favicon badge, title count, sound
// ---------------------------------------------------------------------------

const baseTitle = document.title;
const favicon = document.getElementById("gp-favicon");
const faviconHref = favicon?.href;

export function setBadge(count) {
  document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
  if (!favicon) return;
  if (count <= 0) { favicon.href = faviconHref; favicon.dataset.count = "0"; return; }
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const draw = canvas.getContext("2d");
  draw.fillStyle = "#3151d3";
  draw.beginPath(); draw.roundRect(0, 0, 32, 32, 7); draw.fill();
  draw.fillStyle = "#d92d2d";
  draw.beginPath(); draw.arc(22, 10, 10, 0, 2 * Math.PI); draw.fill();
  draw.fillStyle = "#fff";
  draw.font = "bold 14px sans-serif"; draw.textAlign = "center"; draw.textBaseline = "middle";
  draw.fillText(count > 9 ? "9+" : String(count), 22, 11);
  favicon.href = canvas.toDataURL("image/png");
  favicon.dataset.count = String(count);
}

let audio = null;
export function chime() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.12, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.35);
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  } catch { /* no audio device: the badge still shows */ }
}

// ---------------------------------------------------------------------------
// Keyboard shortcuts ("g q", "j", "?"…); never while typing in a field
// ---------------------------------------------------------------------------

const shortcuts = [];
let pending = "";
let pendingTimer = null;

export function shortcut(keys, description, handler) {
  shortcuts.push({ keys, description, handler });
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (document.querySelector("dialog[open]") && event.key !== "Escape") return;
  const sequence = pending ? `${pending} ${event.key}` : event.key;
  const match = shortcuts.find((s) => s.keys === sequence);
  if (match) {
    event.preventDefault();
    pending = "";
    match.handler(event);
    return;
  }
  if (shortcuts.some((s) => s.keys.startsWith(`${sequence} `))) {
    pending = sequence;
    clearTimeout(pendingTimer);
    pendingTimer = setTimeout(() => { pending = ""; }, 1200);
  } else {
    pending = "";
  }
});

// ---------------------------------------------------------------------------
// The menu bar
// ---------------------------------------------------------------------------

function bootMenu() {
  const availability = document.getElementById("gp-availability");
  availability?.addEventListener("change", async () => {
    const value = availability.value;
    try {
      const me = await api("PATCH", "/api/v1/me", { availability: value });
      availability.dataset.current = me.availability;
      document.getElementById("gp-availability-dot").dataset.availability = me.availability;
      if (context.user) context.user.availability = me.availability;
    } catch (error) {
      availability.value = availability.dataset.current;
      alert(error.message);
    }
  });

  const signoutDialog = document.getElementById("gp-signout-dialog");
  const signOut = async (everywhere) => {
    try { await api("POST", "/api/v1/auth/logout", everywhere ? { everywhere: true } : undefined); } catch { /* signed out already */ }
    location.assign("/signin");
  };
  document.getElementById("gp-signout")?.addEventListener("click", () => signoutDialog.showModal());
  document.getElementById("gp-signout-cancel")?.addEventListener("click", () => signoutDialog.close());
  document.getElementById("gp-signout-here")?.addEventListener("click", () => signOut(false));
  document.getElementById("gp-signout-everywhere")?.addEventListener("click", () => signOut(true));

  // The admin menu closes on a click elsewhere or Escape, as menus do.
  const adminMenu = document.getElementById("gp-admin-menu");
  document.addEventListener("click", (event) => { if (adminMenu?.open && !adminMenu.contains(event.target)) adminMenu.open = false; });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && adminMenu?.open) { adminMenu.open = false; adminMenu.querySelector("summary").focus(); } });

  const help = document.getElementById("gp-shortcuts-dialog");
  const openHelp = () => {
    const list = document.getElementById("gp-shortcuts-list");
    list.replaceChildren(...shortcuts.flatMap((s) => [
      el("span", {}, ...s.keys.split(" ").map((k) => el("kbd", {}, k))), el("span", {}, s.description)]));
    help.showModal();
  };
  document.getElementById("gp-shortcuts-button")?.addEventListener("click", openHelp);
  document.getElementById("gp-shortcuts-close")?.addEventListener("click", () => help.close());
  if (context.user) {
    shortcut("?", "Show keyboard shortcuts", openHelp);
    document.querySelectorAll(".gp-nav a[aria-keyshortcuts]").forEach((link) => {
      shortcut(link.getAttribute("aria-keyshortcuts"), `Go to ${link.textContent.trim()}`, () => link.click());
    });
  }
}

bootMenu();
if (context.user) socket.connect();
