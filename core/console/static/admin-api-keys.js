// /admin/api-keys: list, create (the key is shown once, in a dialog, with a copy
// button) and revoke (after a confirmation) — through /api/v1/api-keys.
import { api, clearFieldErrors, showFieldError, el, localTime, showError } from "./console.js";

const rows = document.getElementById("gp-keys-rows");
const empty = document.getElementById("gp-keys-empty");
const pageError = document.getElementById("gp-keys-error");
const notice = document.getElementById("gp-keys-notice");
const count = document.getElementById("gp-keys-count");
const form = document.getElementById("gp-key-form");
const created = document.getElementById("gp-key-created");
const keyInput = document.getElementById("gp-key-value");
const copied = document.getElementById("gp-key-copied");
const revokeDialog = document.getElementById("gp-key-revoke");
const revokeError = document.getElementById("gp-key-revoke-error");

const keys = new Map();
let revoking = null;

function say(message) {
  pageError.hidden = true;
  notice.textContent = message;
  notice.hidden = false;
}

function row(key) {
  const revoked = Boolean(key.revoked_at);
  return el("tr", { id: `gp-key-${key.id}`, "data-key": key.id, "data-revoked": String(revoked) },
    el("td", { class: "gp-key-name" }, key.name),
    el("td", {}, el("code", {}, `${key.prefix}…`)),
    el("td", {}, key.role === "admin" ? "Admin" : "Agent"),
    el("td", { title: key.created_at }, localTime(key.created_at, true)),
    el("td", { title: key.last_used_at || "" }, key.last_used_at ? localTime(key.last_used_at, true) : el("span", { class: "gp-muted" }, "never")),
    el("td", {}, revoked
      ? el("span", { class: "gp-badge", "data-status": "revoked", title: key.revoked_at }, `revoked ${localTime(key.revoked_at, true)}`)
      : el("span", { class: "gp-badge", "data-status": "active" }, "active")),
    el("td", { class: "gp-row-actions" }, revoked ? null
      : el("button", { type: "button", class: "gp-button gp-small gp-danger", "data-action": "revoke", onclick: () => openRevoke(key) }, "Revoke")));
}

function draw() {
  // Newest first: the key just made is where the admin looks.
  const all = [...keys.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  rows.replaceChildren(...all.map(row));
  empty.hidden = all.length > 0;
  const active = all.filter((key) => !key.revoked_at).length;
  count.textContent = `${active} active${all.length > active ? `, ${all.length - active} revoked` : ""}`;
}

async function load() {
  try {
    let cursor = null;
    for (let pages = 0; pages < 100; pages++) {
      const page = await api("GET", `/api/v1/api-keys?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      page.items.forEach((key) => keys.set(key.id, key));
      cursor = page.next;
      if (!cursor) break;
    }
    draw();
    document.body.dataset.ready = "true";
  } catch (error) {
    showError(pageError, error);
  }
}

// -- create: the key, once ---------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  notice.hidden = true;
  pageError.hidden = true;
  const button = document.getElementById("gp-key-create");
  button.disabled = true;
  try {
    const key = await api("POST", "/api/v1/api-keys", { name: form.elements.name.value.trim(), role: form.elements.role.value });
    const { key: secret, ...metadata } = key;
    keys.set(metadata.id, metadata);
    draw();
    form.reset();
    document.getElementById("gp-key-created-name").textContent = metadata.name;
    keyInput.value = secret;
    copied.textContent = "";
    created.showModal();
    keyInput.focus();
    keyInput.select();
  } catch (error) {
    if (!showFieldError(form, error)) showError(pageError, error);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("gp-key-copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(keyInput.value);
    copied.textContent = "Copied to the clipboard.";
  } catch {
    keyInput.focus();
    keyInput.select();
    copied.textContent = document.execCommand("copy") ? "Copied to the clipboard." : "Select the key and copy it (Ctrl+C).";
  }
  document.body.dataset.copied = "true";
});

function forget() {
  keyInput.value = ""; // the key lives nowhere once the dialog is closed
}
document.getElementById("gp-key-done").addEventListener("click", () => { forget(); created.close(); });
created.addEventListener("close", () => { // also Escape
  forget();
  say("The key was created. Only its prefix is shown from now on.");
});

// -- revoke ------------------------------------------------------------------------

function openRevoke(key) {
  revoking = key;
  revokeError.hidden = true;
  document.getElementById("gp-key-revoke-name").textContent = key.name;
  document.getElementById("gp-key-revoke-prefix").textContent = `${key.prefix}…`;
  revokeDialog.showModal();
  document.getElementById("gp-key-revoke-cancel").focus();
}

document.getElementById("gp-key-revoke-cancel").addEventListener("click", () => revokeDialog.close());
document.getElementById("gp-key-revoke-confirm").addEventListener("click", async () => {
  const button = document.getElementById("gp-key-revoke-confirm");
  button.disabled = true;
  try {
    await api("DELETE", `/api/v1/api-keys/${encodeURIComponent(revoking.id)}`);
    keys.set(revoking.id, await api("GET", `/api/v1/api-keys/${encodeURIComponent(revoking.id)}`));
    draw();
    revokeDialog.close();
    say(`Revoked “${revoking.name}”. Clients using it are refused from now on.`);
  } catch (error) {
    showError(revokeError, error);
  } finally {
    button.disabled = false;
  }
});

load();
