// /admin/audit: the audit log, newest first, filtered by actor, action (or a family
// "user."), target and a time range; "Load more" follows the API's cursor. The filters
// are the page's own query string, so a filtered view is a link.
import { api, clearFieldErrors, showFieldError, context, el, localTime, showError } from "./console.js";

const form = document.getElementById("gp-audit-filters");
const rows = document.getElementById("gp-audit-rows");
const empty = document.getElementById("gp-audit-empty");
const more = document.getElementById("gp-audit-more");
const pageError = document.getElementById("gp-audit-error");
const actors = context.actors || {};
const FIELDS = ["actor", "action", "target", "since", "until"];
const PAGE = 50;

let filters = { ...(context.filters || {}) };
let cursor = null;
let generation = 0;

// <input type="datetime-local"> holds local time without a zone; the API wants RFC 3339.
function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

function fillForm() {
  for (const name of FIELDS) {
    const value = filters[name] || "";
    form.elements[name].value = name === "since" || name === "until" ? (value ? toLocalInput(value) : "") : value;
  }
}

function readFilters() {
  const out = {};
  for (const name of FIELDS) {
    const raw = form.elements[name].value.trim();
    const value = name === "since" || name === "until" ? fromLocalInput(raw) : raw;
    if (value) out[name] = value;
  }
  return out;
}

function query(extra = {}) {
  const params = new URLSearchParams({ ...filters, ...extra });
  return params.toString();
}

function actorCell(actor) {
  if (!actor) return el("span", { class: "gp-muted" }, "system");
  const name = actors[actor];
  return el("span", { title: actor },
    name ? el("span", {}, name) : null, name ? el("br") : null, el("code", { class: "gp-small gp-muted" }, actor));
}

function details(value) {
  if (!value || (typeof value === "object" && !Object.keys(value).length)) return el("span", { class: "gp-muted" }, "—");
  return el("code", { class: "gp-audit-details" }, JSON.stringify(value));
}

function row(entry) {
  return el("tr", { "data-seq": String(entry.seq) },
    el("td", { title: entry.at }, localTime(entry.at, true)),
    el("td", {}, actorCell(entry.actor)),
    el("td", {}, el("span", { class: "gp-badge gp-audit-action" }, entry.action)),
    el("td", { class: "gp-audit-target" }, entry.target ? el("code", {}, entry.target) : el("span", { class: "gp-muted" }, "—")),
    el("td", {}, details(entry.details)));
}

async function loadPage(reset) {
  const mine = reset ? ++generation : generation;
  pageError.hidden = true;
  more.disabled = true;
  try {
    const page = await api("GET", `/api/v1/audit-log?${query({ limit: PAGE, ...(reset || !cursor ? {} : { cursor }) })}`);
    if (mine !== generation) return; // a newer filter won
    if (reset) rows.replaceChildren();
    rows.append(...page.items.map(row));
    cursor = page.next;
    more.hidden = !cursor;
    empty.hidden = rows.children.length > 0;
    document.body.dataset.ready = "true";
  } catch (error) {
    if (!showFieldError(form, error)) showError(pageError, error);
  } finally {
    more.disabled = false;
  }
}

function apply() {
  clearFieldErrors(form);
  filters = readFilters();
  const search = query();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
  cursor = null;
  loadPage(true);
}

form.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
document.getElementById("gp-audit-clear").addEventListener("click", () => { form.reset(); apply(); });
more.addEventListener("click", () => loadPage(false));

fillForm();
loadPage(true);
