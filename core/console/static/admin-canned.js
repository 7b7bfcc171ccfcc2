// /admin/canned-responses: list, create, edit and delete through /api/v1/canned-responses.
import { api, clearFieldErrors, el, showError, showFieldError } from "./console.js";

const rows = document.getElementById("gp-canned-rows");
const form = document.getElementById("gp-canned-form");
const pageError = document.getElementById("gp-canned-error");
const notice = document.getElementById("gp-canned-notice");
const formTitle = document.getElementById("gp-canned-form-title");
const newButton = document.getElementById("gp-canned-new");
const responses = new Map();
let editing = null;

function say(message) {
  pageError.hidden = true;
  notice.textContent = message;
  notice.hidden = false;
}

function row(item) {
  return el("tr", { "data-canned-id": item.id },
    el("td", {}, el("code", {}, item.shortcut)),
    el("td", { class: "gp-canned-title" }, item.title),
    el("td", { class: "gp-small" }, item.body.length > 120 ? `${item.body.slice(0, 120)}…` : item.body),
    el("td", { class: "gp-row-actions" },
      el("button", { type: "button", class: "gp-button gp-small", "data-action": "edit", onclick: () => edit(item) }, "Edit"), " ",
      el("button", { type: "button", class: "gp-button gp-small gp-danger", "data-action": "delete", onclick: () => remove(item) }, "Delete")));
}

function draw() {
  const all = [...responses.values()].sort((a, b) => a.shortcut.localeCompare(b.shortcut));
  rows.replaceChildren(...all.map(row));
  document.getElementById("gp-canned-empty").hidden = all.length > 0;
  document.getElementById("gp-canned-count").textContent = `${all.length}`;
}

async function load() {
  try {
    let cursor = null;
    do {
      const page = await api("GET", `/api/v1/canned-responses?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      page.items.forEach((item) => responses.set(item.id, item));
      cursor = page.next;
    } while (cursor);
    draw();
    document.body.dataset.ready = "true";
  } catch (error) { showError(pageError, error); }
}

function edit(item) {
  editing = item;
  clearFieldErrors(form);
  form.elements.shortcut.value = item.shortcut;
  form.elements.title.value = item.title;
  form.elements.body.value = item.body;
  formTitle.textContent = `Edit ${item.shortcut}`;
  newButton.hidden = false;
  form.elements.title.focus();
}

function reset() {
  editing = null;
  form.reset();
  clearFieldErrors(form);
  formTitle.textContent = "New response";
  newButton.hidden = true;
}
newButton.addEventListener("click", reset);

async function remove(item) {
  if (!confirm(`Delete ${item.shortcut}? Agents can no longer insert it.`)) return;
  try {
    await api("DELETE", `/api/v1/canned-responses/${encodeURIComponent(item.id)}`);
    responses.delete(item.id);
    if (editing?.id === item.id) reset();
    draw();
    say(`Deleted ${item.shortcut}.`);
  } catch (error) { showError(pageError, error); }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  notice.hidden = true;
  const body = { shortcut: form.elements.shortcut.value.trim(), title: form.elements.title.value.trim(), body: form.elements.body.value };
  try {
    const saved = editing
      ? await api("PUT", `/api/v1/canned-responses/${encodeURIComponent(editing.id)}`, body)
      : await api("POST", "/api/v1/canned-responses", body);
    responses.set(saved.id, saved);
    draw();
    say(`Saved ${saved.shortcut}.`);
    reset();
  } catch (error) {
    if (!showFieldError(form, error)) showError(pageError, error);
  }
});

load();
