// /admin/users: the account's users; create, edit (name, role, capacity), disable or
// enable, reset a password — all through /api/v1/users. The API's refusals are shown
// at the field they name (a 422's `field`, the 409 of the last admin at the role).
import { ApiError, api, clearFieldErrors, showFieldError, context, el, localTime, showError } from "./console.js";

const rows = document.getElementById("gp-users-rows");
const loading = document.getElementById("gp-users-loading");
const pageError = document.getElementById("gp-users-error");
const notice = document.getElementById("gp-users-notice");
const count = document.getElementById("gp-users-count");

const dialog = document.getElementById("gp-user-dialog");
const form = document.getElementById("gp-user-form");
const formError = document.getElementById("gp-user-form-error");
const passwordDialog = document.getElementById("gp-password-dialog");
const passwordForm = document.getElementById("gp-password-form");
const passwordError = document.getElementById("gp-password-form-error");

const users = new Map();
const locked = new Map(Object.entries(context.locked || {}));
let editing = null; // the user being edited, or null when creating
let resetting = null;

const ROLE = { agent: "Agent", admin: "Admin" };

function say(message) {
  pageError.hidden = true;
  notice.textContent = message;
  notice.hidden = false;
}

// -- errors at the field ---------------------------------------------------------

/** Show ``error`` at the input named by its `field`; otherwise in ``fallback``. */
function showAtField(formElement, fallback, error) {
  if (!showFieldError(formElement, error)) showError(fallback, error);
}

// -- the list --------------------------------------------------------------------

function statusBadges(user) {
  const badges = [];
  if (user.disabled) badges.push(el("span", { class: "gp-badge", "data-status": "disabled" }, "disabled"));
  if (locked.has(user.id)) {
    badges.push(el("span", { class: "gp-badge", "data-status": "locked", title: `Locked until ${localTime(locked.get(user.id), true)}` },
      "locked"));
  }
  if (!badges.length) badges.push(el("span", { class: "gp-badge", "data-status": "active" }, "active"));
  return badges;
}

function row(user) {
  const me = user.id === context.user?.id;
  return el("tr", { id: `gp-user-${user.id}`, "data-user": user.id, "data-email": user.email },
    el("td", { class: "gp-user-name" }, user.name || el("span", { class: "gp-muted" }, "—"), me ? el("span", { class: "gp-badge" }, "you") : null),
    el("td", {}, user.email),
    el("td", { class: "gp-user-role" }, ROLE[user.role] || user.role),
    el("td", {}, el("span", { class: "gp-dot", "data-availability": user.availability, "aria-hidden": "true" }), " ", user.availability),
    el("td", { class: "gp-user-capacity" }, String(user.capacity)),
    el("td", { class: "gp-user-status" }, ...statusBadges(user)),
    el("td", { class: "gp-row-actions" },
      el("button", { type: "button", class: "gp-button gp-small", "data-action": "edit", onclick: () => openEdit(user) }, "Edit"),
      el("button", { type: "button", class: "gp-button gp-small", "data-action": "password", onclick: () => openReset(user) }, "Reset password"),
      el("button", {
        type: "button", class: `gp-button gp-small${user.disabled ? "" : " gp-danger"}`, "data-action": user.disabled ? "enable" : "disable",
        onclick: () => setDisabled(user, !user.disabled),
      }, user.disabled ? "Enable" : "Disable")));
}

function draw() {
  const all = [...users.values()];
  rows.replaceChildren(...all.map(row));
  count.textContent = `${all.length} user${all.length === 1 ? "" : "s"}`;
}

function put(user) {
  users.set(user.id, user);
  const existing = document.getElementById(`gp-user-${user.id}`);
  if (existing) existing.replaceWith(row(user));
  else draw();
}

async function load() {
  try {
    let cursor = null;
    for (let pages = 0; pages < 100; pages++) { // bounded: 100 pages of 200
      const page = await api("GET", `/api/v1/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      page.items.forEach((user) => users.set(user.id, user));
      cursor = page.next;
      if (!cursor) break;
    }
    draw();
    loading.hidden = true;
    document.body.dataset.ready = "true";
  } catch (error) {
    loading.hidden = true;
    showError(pageError, error);
  }
}

// -- create and edit -------------------------------------------------------------

function openCreate() {
  editing = null;
  form.reset();
  clearFieldErrors(form);
  formError.hidden = true;
  document.getElementById("gp-user-dialog-title").textContent = "New user";
  document.getElementById("gp-user-save").textContent = "Create user";
  form.elements.email.disabled = false;
  form.elements.capacity.value = "3";
  document.getElementById("gp-user-password-field").hidden = false;
  dialog.showModal();
  form.elements.email.focus();
}

function openEdit(user) {
  editing = user;
  form.reset();
  clearFieldErrors(form);
  formError.hidden = true;
  document.getElementById("gp-user-dialog-title").textContent = `Edit ${user.name || user.email}`;
  document.getElementById("gp-user-save").textContent = "Save changes";
  form.elements.email.value = user.email;
  form.elements.email.disabled = true;
  form.elements.name.value = user.name || "";
  form.elements.role.value = user.role;
  form.elements.capacity.value = String(user.capacity);
  document.getElementById("gp-user-password-field").hidden = true;
  dialog.showModal();
  form.elements.name.focus();
}

function capacityValue() {
  const input = form.elements.capacity;
  if (input.value === "") return undefined;
  const number = Number(input.value);
  return Number.isFinite(number) ? number : input.value; // the server names a bad one
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  formError.hidden = true;
  const body = { name: form.elements.name.value.trim(), role: form.elements.role.value };
  const capacity = capacityValue();
  if (capacity !== undefined) body.capacity = capacity;
  const save = document.getElementById("gp-user-save");
  save.disabled = true;
  try {
    if (editing) {
      const user = await api("PATCH", `/api/v1/users/${encodeURIComponent(editing.id)}`, body);
      put(user);
      say(`Saved ${user.name || user.email}.`);
    } else {
      body.email = form.elements.email.value.trim();
      body.password = form.elements.password.value;
      const user = await api("POST", "/api/v1/users", body);
      put(user);
      say(`Created ${user.name || user.email}.`);
    }
    dialog.close();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && !error.field) {
      // A taken email is a 409 without a field: it belongs to the email.
      error.field = editing ? null : "email";
    }
    showAtField(form, formError, error);
  } finally {
    save.disabled = false;
  }
});

document.getElementById("gp-user-new").addEventListener("click", openCreate);
document.getElementById("gp-user-cancel").addEventListener("click", () => dialog.close());

// -- disable / enable ------------------------------------------------------------

async function setDisabled(user, disabled) {
  pageError.hidden = true;
  try {
    put(await api("PATCH", `/api/v1/users/${encodeURIComponent(user.id)}`, { disabled }));
    say(`${user.name || user.email} is ${disabled ? "disabled: they can no longer sign in" : "enabled again"}.`);
  } catch (error) {
    notice.hidden = true;
    const message = error instanceof ApiError && error.status === 409
      ? `${user.name || user.email} cannot be disabled: ${error.message}` : error.message;
    showError(pageError, new Error(message));
    const cell = document.querySelector(`#gp-user-${CSS.escape(user.id)} .gp-user-status`);
    cell?.append(el("small", { class: "gp-field-error", role: "alert" }, error.message));
  }
}

// -- reset password --------------------------------------------------------------

function openReset(user) {
  resetting = user;
  passwordForm.reset();
  clearFieldErrors(passwordForm);
  passwordError.hidden = true;
  document.getElementById("gp-password-who").textContent = user.name ? `${user.name} (${user.email})` : user.email;
  passwordDialog.showModal();
  passwordForm.elements.password.focus();
}

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(passwordForm);
  passwordError.hidden = true;
  const save = document.getElementById("gp-password-save");
  save.disabled = true;
  try {
    const user = await api("PATCH", `/api/v1/users/${encodeURIComponent(resetting.id)}`, { password: passwordForm.elements.password.value });
    locked.delete(user.id); // a new password lifts the lockout
    put(user);
    passwordDialog.close();
    say(`New password set for ${user.name || user.email}.`);
  } catch (error) {
    showAtField(passwordForm, passwordError, error);
  } finally {
    save.disabled = false;
  }
});
document.getElementById("gp-password-cancel").addEventListener("click", () => passwordDialog.close());

load();
