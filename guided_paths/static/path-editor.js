// The Guided Path editor (admin_pages.py): a JSON document in a monospace textarea,
// saved as the path's draft through the documents API, which answers every problem
// with a JSON Pointer. Problems are listed grouped by step, beside the list of steps;
// choosing one selects the text it points at in the editor. Publish, archive and
// restore go through the same API.
import { api, context, el, showError, shortcut } from "/console/assets/console.js";

const PATHS = "/api/v1/guided-paths";
const editor = document.getElementById("gp-editor");
const errorBox = document.getElementById("gp-editor-error");
const notice = document.getElementById("gp-editor-notice");
const issuesBox = document.getElementById("gp-issues");
const stepsBox = document.getElementById("gp-steps");
const dirtyMark = document.getElementById("gp-editor-dirty");

let path = context.path; // null for a new path
let saved = "";
let issues = path ? path.issues || [] : [];

const STARTER = {
  schema_version: 1,
  id: "new-path",
  title: "New path",
  start: "welcome",
  steps: {
    welcome: { type: "message", text: "Hello! Let's fix this together.", next: "done" },
    done: { type: "end", outcome: "resolved", message: "Glad it works." },
  },
};

// -- where a JSON Pointer is in the text ---------------------------------------------------

/** Map every value of the JSON `text` to its [start, end) offsets, by JSON Pointer. */
export function locate(text) {
  const ranges = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i += 1; };
  const escape = (key) => key.replace(/~/g, "~0").replace(/\//g, "~1");
  function string() {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i += 1;
    return JSON.parse(text.slice(start, i));
  }
  function value(pointer) {
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i += 1; ws();
      while (i < text.length && text[i] !== "}") {
        ws();
        const key = string();
        ws(); i += 1; // :
        value(`${pointer}/${escape(key)}`);
        ws();
        if (text[i] === ",") i += 1;
        ws();
      }
      i += 1;
    } else if (c === "[") {
      i += 1; ws();
      let index = 0;
      while (i < text.length && text[i] !== "]") {
        value(`${pointer}/${index}`);
        index += 1;
        ws();
        if (text[i] === ",") i += 1;
        ws();
      }
      i += 1;
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !",]} \t\r\n".includes(text[i])) i += 1;
    }
    ranges.set(pointer, [start, i]);
  }
  try { value(""); } catch { /* the text is not JSON: nothing is located */ }
  return ranges;
}

function select(pointer) {
  const ranges = locate(editor.value);
  let target = pointer;
  while (target && !ranges.has(target)) target = target.slice(0, target.lastIndexOf("/"));
  const range = ranges.get(target) || [0, 0];
  editor.focus();
  editor.setSelectionRange(range[0], range[1]);
  // Scroll the selection into view: the textarea has no API for it, so measure lines.
  const line = editor.value.slice(0, range[0]).split("\n").length - 1;
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 18;
  editor.scrollTop = Math.max(0, line * lineHeight - editor.clientHeight / 3);
  editor.dataset.selected = target;
}

// -- problems, grouped by step ------------------------------------------------------------

function stepOf(pointer) {
  const parts = (pointer || "").split("/");
  return parts[1] === "steps" && parts.length > 2 ? parts[2].replace(/~1/g, "/").replace(/~0/g, "~") : null;
}

function pointerOfStep(stepId) {
  return `/steps/${stepId.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

function renderIssues() {
  document.getElementById("gp-issue-count").textContent = String(issues.length);
  document.getElementById("gp-issue-count").dataset.state = issues.length ? "waiting" : "active";
  if (!issues.length) {
    issuesBox.replaceChildren(el("p", { class: "gp-muted", id: "gp-no-issues" },
      path ? "No problems: the draft can be published." : "Save the document to check it."));
    renderSteps();
    return;
  }
  const groups = new Map();
  for (const issue of issues) {
    const step = stepOf(issue.pointer);
    const key = step === null ? "" : step;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(issue);
  }
  const sections = [...groups.entries()].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)))
    .map(([step, list]) => el("div", { class: "gp-issue-group", "data-step": step },
      el("h3", {}, step === "" ? "Document" : el("button", { type: "button", class: "gp-link", "data-select": pointerOfStep(step),
        onclick: () => select(pointerOfStep(step)) }, `Step ${step}`)),
      el("ul", { class: "gp-issue-list" }, list.map((issue) => el("li", {},
        el("button", { type: "button", class: "gp-issue", "data-pointer": issue.pointer, "data-code": issue.code,
          onclick: () => select(issue.pointer || "") },
        el("code", {}, issue.pointer || "/"), " ", el("span", { class: "gp-issue-message" }, issue.message),
        " ", el("span", { class: "gp-muted gp-small" }, issue.code)))))));
  issuesBox.replaceChildren(...sections);
  renderSteps();
}

function renderSteps() {
  let document_ = null;
  try { document_ = JSON.parse(editor.value); } catch { /* listed once it parses */ }
  const steps = document_ && typeof document_.steps === "object" && document_.steps ? document_.steps : {};
  const counts = new Map();
  for (const issue of issues) {
    const step = stepOf(issue.pointer);
    if (step !== null) counts.set(step, (counts.get(step) || 0) + 1);
  }
  stepsBox.replaceChildren(...Object.entries(steps).map(([id, step]) => el("li", { "data-step": id },
    el("button", { type: "button", class: "gp-link", onclick: () => select(pointerOfStep(id)) }, id),
    " ", el("span", { class: "gp-muted gp-small" }, String(step && step.type)),
    counts.get(id) ? el("span", { class: "gp-badge gp-count", title: "problems" }, String(counts.get(id))) : null)));
}

// -- saving, publishing, archiving --------------------------------------------------------

function setPath(next) {
  path = next;
  document.getElementById("gp-editor-title").textContent = path.title;
  document.title = `${path.title} · guidepath`;
  const status = document.getElementById("gp-editor-status");
  status.hidden = false;
  status.textContent = path.status;
  document.getElementById("gp-editor-version").textContent = path.latest_version
    ? `published v${path.latest_version}${path.draft_changed ? " · draft changed" : ""}` : "not published yet";
  for (const [id, href] of [["gp-editor-graph", `/admin/guided-paths/${path.id}/graph?version=draft`],
    ["gp-editor-export", `${PATHS}/${path.id}/export?version=draft`]]) {
    const link = document.getElementById(id);
    link.href = href;
    link.hidden = false;
  }
  document.getElementById("gp-editor-archive").hidden = path.status !== "active";
  document.getElementById("gp-editor-restore").hidden = path.status === "active";
  if (location.pathname.endsWith("/new")) history.replaceState(null, "", `/admin/guided-paths/${path.id}/edit`);
}

function markDirty() {
  dirtyMark.textContent = editor.value === saved ? "" : "· unsaved changes";
}

function say(message) {
  errorBox.hidden = true;
  notice.textContent = message;
  notice.hidden = false;
}

function refused(error) {
  notice.hidden = true;
  if (error.issues && error.issues.length) {
    issues = error.issues;
    renderIssues();
    showError(errorBox, new Error(`${error.message}`));
  } else if (error.field && error.field.startsWith("/")) {
    issues = [{ pointer: error.field, code: error.code, message: error.message }];
    renderIssues();
    showError(errorBox, error);
  } else {
    showError(errorBox, error);
  }
}

async function save() {
  errorBox.hidden = true;
  let document_;
  try {
    document_ = JSON.parse(editor.value);
  } catch (error) {
    const at = /position (\d+)/.exec(error.message);
    if (at) editor.setSelectionRange(Number(at[1]), Number(at[1]) + 1);
    issues = [{ pointer: "", code: "document.not_json", message: `Not JSON: ${error.message}` }];
    renderIssues();
    showError(errorBox, new Error(`The document is not JSON: ${error.message}`));
    editor.focus();
    return false;
  }
  try {
    const result = path
      ? await api("PUT", `${PATHS}/${encodeURIComponent(path.id)}`, document_)
      : await api("POST", PATHS, document_);
    saved = editor.value;
    markDirty();
    setPath(result);
    issues = result.issues || [];
    renderIssues();
    say(issues.length ? `Draft saved, with ${issues.length} problem${issues.length === 1 ? "" : "s"} to fix before publishing.`
      : "Draft saved. No problems: it can be published.");
    return true;
  } catch (error) {
    refused(error);
    return false;
  }
}

async function publish() {
  if (!path || editor.value !== saved) {
    if (!(await save())) return;
  }
  try {
    const version = await api("POST", `${PATHS}/${encodeURIComponent(path.id)}/publish`);
    setPath(await api("GET", `${PATHS}/${encodeURIComponent(path.id)}`));
    issues = [];
    renderIssues();
    say(`Published version ${version.version}.`);
  } catch (error) { refused(error); }
}

async function setStatus(action) {
  try {
    setPath(await api("POST", `${PATHS}/${encodeURIComponent(path.id)}/${action}`));
    say(action === "archive" ? "Archived: no new runs can start, and it cannot be edited until restored." : "Restored.");
  } catch (error) { refused(error); }
}

document.getElementById("gp-editor-save").addEventListener("click", save);
document.getElementById("gp-editor-publish").addEventListener("click", publish);
document.getElementById("gp-editor-archive").addEventListener("click", () => setStatus("archive"));
document.getElementById("gp-editor-restore").addEventListener("click", () => setStatus("restore"));
document.getElementById("gp-editor-format").addEventListener("click", () => {
  try { editor.value = JSON.stringify(JSON.parse(editor.value), null, 2); markDirty(); } catch (error) { showError(errorBox, error); }
});
editor.addEventListener("input", markDirty);
editor.addEventListener("input", () => { clearTimeout(editor.stepsTimer); editor.stepsTimer = setTimeout(renderSteps, 400); });
editor.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "s") { event.preventDefault(); save(); }
});
window.addEventListener("beforeunload", (event) => { if (editor.value !== saved) event.preventDefault(); });
shortcut("g p", "Back to the Guided Paths", () => location.assign("/admin/guided-paths"));

editor.value = JSON.stringify(path ? path.draft : STARTER, null, 2);
saved = path ? editor.value : "";
if (path) setPath(path);
markDirty();
renderIssues();
document.body.dataset.ready = "true";
