// /admin/webhooks: subscriptions and their delivery logs, through /api/v1/webhooks.
import { api, clearFieldErrors, el, localTime, showError, showFieldError } from "/console/assets/console.js";

const HOOKS = "/api/v1/webhooks";
const rows = document.getElementById("gp-hooks-rows");
const form = document.getElementById("gp-hook-form");
const pageError = document.getElementById("gp-hooks-error");
const notice = document.getElementById("gp-hooks-notice");
const log = document.getElementById("gp-log");
const logRows = document.getElementById("gp-log-rows");
const secretDialog = document.getElementById("gp-secret-dialog");
const editDialog = document.getElementById("gp-edit-dialog");
const editForm = document.getElementById("gp-edit-form");
const deleteDialog = document.getElementById("gp-delete-dialog");
const subscriptions = new Map();
let shown = null;     // the subscription whose log is open
let editing = null;
let deleting = null;

function say(message) {
  pageError.hidden = true;
  notice.textContent = message;
  notice.hidden = false;
}

function fail(error) {
  notice.hidden = true;
  showError(pageError, error);
}

const patterns = (text) => text.split(/[\s,]+/).map((part) => part.trim()).filter(Boolean);

function statusBadge(item) {
  const text = item.enabled ? "Enabled" : `Disabled${item.disabled_reason && item.disabled_reason !== "admin" ? ` (${item.disabled_reason})` : ""}`;
  return el("span", { class: "gp-badge", "data-enabled": String(item.enabled), "data-status": item.enabled ? "active" : "disabled" }, text);
}

function row(item) {
  const button = (action, label, handler, extra = "") =>
    el("button", { type: "button", class: `gp-button gp-small ${extra}`.trim(), "data-action": action, onclick: handler }, label);
  return el("tr", { "data-hook-id": item.id },
    el("td", {}, el("span", { class: "gp-mono gp-hook-url" }, item.url),
      item.description ? el("div", { class: "gp-small gp-muted gp-hook-description" }, item.description) : null),
    el("td", { class: "gp-hook-types" }, item.event_types.map((t) => el("code", {}, t)).flatMap((c, i) => (i ? [", ", c] : [c]))),
    el("td", {}, statusBadge(item),
      item.failing_since ? el("div", { class: "gp-small gp-muted" }, `failing since ${localTime(item.failing_since, true)}`) : null),
    el("td", { class: "gp-row-actions" },
      button("log", "Deliveries", () => openLog(item)),
      button("edit", "Edit", () => edit(item)),
      button("toggle", item.enabled ? "Disable" : "Enable", () => toggle(item)),
      button("rotate", "Rotate secret", () => rotate(item)),
      button("delete", "Delete", () => askDelete(item), "gp-danger")));
}

function draw() {
  const all = [...subscriptions.values()];
  rows.replaceChildren(...all.map(row));
  document.getElementById("gp-hooks-empty").hidden = all.length > 0;
  document.getElementById("gp-hooks-count").textContent = `${all.length}`;
}

async function load() {
  try {
    let cursor = null;
    subscriptions.clear();
    do {
      const page = await api("GET", `${HOOKS}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      page.items.forEach((item) => subscriptions.set(item.id, item));
      cursor = page.next;
    } while (cursor);
    draw();
    document.body.dataset.ready = "true";
  } catch (error) { fail(error); }
}

function showSecret(item, note) {
  document.getElementById("gp-secret-url").textContent = item.url;
  document.getElementById("gp-secret-value").value = item.secret;
  document.getElementById("gp-secret-note").textContent = note;
  secretDialog.showModal();
  document.getElementById("gp-secret-value").select();
}

document.getElementById("gp-secret-copy").addEventListener("click", async () => {
  const input = document.getElementById("gp-secret-value");
  try { await navigator.clipboard.writeText(input.value); document.getElementById("gp-secret-note").textContent = "Copied."; }
  catch { input.select(); document.getElementById("gp-secret-note").textContent = "Select the text and copy it."; }
});
document.getElementById("gp-secret-done").addEventListener("click", () => {
  document.getElementById("gp-secret-value").value = "";
  secretDialog.close();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  const body = { url: form.elements.url.value.trim(), event_types: patterns(form.elements.event_types.value) };
  const description = form.elements.description.value.trim();
  if (description) body.description = description;
  try {
    const created = await api("POST", HOOKS, body);
    const { secret, ...item } = created;
    subscriptions.set(item.id, item);
    draw();
    form.reset();
    say(`Subscribed ${item.url}.`);
    showSecret(created, "Deliveries are signed with it from now on.");
  } catch (error) {
    if (!showFieldError(form, error)) fail(error);
  }
});

function edit(item) {
  editing = item;
  clearFieldErrors(editForm);
  document.getElementById("gp-edit-error").hidden = true;
  editForm.elements.url.value = item.url;
  editForm.elements.event_types.value = item.event_types.join(", ");
  editForm.elements.description.value = item.description;
  editDialog.showModal();
}

document.getElementById("gp-edit-cancel").addEventListener("click", () => editDialog.close());
editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(editForm);
  try {
    const changed = await api("PATCH", `${HOOKS}/${editing.id}`, {
      url: editForm.elements.url.value.trim(),
      event_types: patterns(editForm.elements.event_types.value),
      description: editForm.elements.description.value.trim(),
    });
    subscriptions.set(changed.id, changed);
    draw();
    editDialog.close();
    say(`Saved ${changed.url}.`);
  } catch (error) {
    if (!showFieldError(editForm, error)) showError(document.getElementById("gp-edit-error"), error);
  }
});

async function toggle(item) {
  try {
    const changed = await api("PATCH", `${HOOKS}/${item.id}`, { enabled: !item.enabled });
    subscriptions.set(changed.id, changed);
    draw();
    say(`${changed.enabled ? "Enabled" : "Disabled"} ${changed.url}.`);
  } catch (error) { fail(error); }
}

async function rotate(item) {
  try {
    const rotated = await api("POST", `${HOOKS}/${item.id}/rotate-secret`);
    const { secret, ...rest } = rotated;
    subscriptions.set(rest.id, rest);
    draw();
    showSecret(rotated, `The previous secret stays valid until ${localTime(rotated.previous_secret_expires_at, true)}: deliveries carry both signatures until then.`);
  } catch (error) { fail(error); }
}

function askDelete(item) {
  deleting = item;
  document.getElementById("gp-delete-url").textContent = item.url;
  document.getElementById("gp-delete-error").hidden = true;
  deleteDialog.showModal();
}

document.getElementById("gp-delete-cancel").addEventListener("click", () => deleteDialog.close());
document.getElementById("gp-delete-confirm").addEventListener("click", async () => {
  try {
    await api("DELETE", `${HOOKS}/${deleting.id}`);
    subscriptions.delete(deleting.id);
    if (shown?.id === deleting.id) { shown = null; log.hidden = true; }
    draw();
    deleteDialog.close();
    say(`Deleted ${deleting.url}.`);
  } catch (error) { showError(document.getElementById("gp-delete-error"), error); }
});

function lastResponse(delivery) {
  const last = delivery.attempts[0];
  if (!last) return el("span", { class: "gp-muted" }, "—");
  const head = last.status_code !== null ? `HTTP ${last.status_code}` : "no response";
  return el("div", {},
    el("span", { class: "gp-delivery-code" }, `${head} · ${last.latency_ms ?? 0} ms`),
    last.error ? el("div", { class: "gp-small gp-muted gp-delivery-error" }, last.error) : null,
    last.response_body ? el("div", { class: "gp-small gp-muted gp-audit-details gp-delivery-body" }, last.response_body.slice(0, 300)) : null);
}

function deliveryRow(delivery) {
  const canRedeliver = !["pending", "delivering"].includes(delivery.status) && shown?.enabled;
  return el("tr", { "data-delivery-id": delivery.id, "data-status": delivery.status },
    el("td", {}, localTime(delivery.created_at, true)),
    el("td", {}, el("code", {}, delivery.event_type), el("div", { class: "gp-small gp-muted gp-mono" }, delivery.event_id)),
    el("td", {}, el("span", { class: "gp-badge", "data-status": delivery.status === "succeeded" ? "active" : delivery.status === "failed" ? "locked" : "disabled" }, delivery.status),
      delivery.next_attempt_at ? el("div", { class: "gp-small gp-muted" }, `next ${localTime(delivery.next_attempt_at, true)}`) : null),
    el("td", {}, String(delivery.attempt_count)),
    el("td", {}, lastResponse(delivery)),
    el("td", { class: "gp-row-actions" }, canRedeliver
      ? el("button", { type: "button", class: "gp-button gp-small", "data-action": "redeliver", onclick: () => redeliver(delivery) }, "Redeliver")
      : null));
}

async function openLog(item) {
  shown = item;
  log.hidden = false;
  document.getElementById("gp-log-url").textContent = item.url;
  try {
    const page = await api("GET", `${HOOKS}/${item.id}/deliveries?limit=50`);
    logRows.replaceChildren(...page.items.map(deliveryRow));
    document.getElementById("gp-log-empty").hidden = page.items.length > 0;
    log.dataset.loaded = item.id;
  } catch (error) { fail(error); }
}

async function redeliver(delivery) {
  try {
    await api("POST", `${HOOKS}/${shown.id}/deliveries/${delivery.id}/redeliver`);
    say(`Delivery of ${delivery.event_type} queued again.`);
    await openLog(shown);
  } catch (error) { fail(error); }
}

document.getElementById("gp-log-refresh").addEventListener("click", () => shown && openLog(subscriptions.get(shown.id) || shown));

load();
