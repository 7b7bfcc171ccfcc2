// The one renderer of a Guided Path run's step, shared by the run page
// (/guided-paths/runs/{id}, run-page.js) and the agent console's runner panel
// (runner-panel.js): the same forms, the same answers, the same errors in both.
//
//   const view = mountRun(container, run, { post, embedApp, onChange, onError, readOnly });
//   view.update(run);      // after someone else moved the run on
//
// `run` is GET /api/v1/runs/{id} (history included). `post(path, body)` sends a JSON
// write (with the CSRF token) and resolves to the run, or throws an error with
// `status`, `code`, `message` and `field` (the API's error body). `embedApp(holder, run)`
// shows an app step (the run page: the app in a sandboxed iframe; the panel: the run
// page embedded). Every text from the document or the customer reaches the page as
// text (textContent), never as markup.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const FINISHED = new Set(["completed", "abandoned"]);
const OUTCOMES = { resolved: "Resolved", unresolved: "Not resolved", escalate: "Needs an agent" };

export function outcomeLabel(outcome) {
  return OUTCOMES[outcome] || outcome || "";
}

/** A value as short readable text: strings as they are, anything else as JSON. */
export function show(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  return JSON.stringify(value);
}

function runUrl(run) {
  return `/api/v1/runs/${encodeURIComponent(run.id)}`;
}

// -- the forms, one per step type --------------------------------------------------------

function fieldError(id) {
  return el("p", { class: "gp-field-error", id, role: "alert", hidden: true });
}

/** What the step was answered last (after "back", the form shows it again). */
function lastAnswer(run, stepId) {
  const entries = (run.history || []).filter((e) => e.step_id === stepId && e.event === "answered");
  return entries.length ? entries[entries.length - 1].value : undefined;
}

function questionForm(view, run, submit) {
  const kind = view.kind;
  const name = `gp-q-${run.id}`;
  const errorId = `${name}-error`;
  const previous = view.previous_answer !== undefined ? view.previous_answer : lastAnswer(run, view.step_id);
  const hints = [];
  const controls = [];
  let read;
  if (kind === "single_choice" || kind === "multiple_choice") {
    const multiple = kind === "multiple_choice";
    const options = (view.options || []).map((option, index) => {
      const id = `${name}-${index}`;
      const chosen = multiple ? Array.isArray(previous) && previous.includes(option.value) : previous === option.value;
      const input = el("input", { type: multiple ? "checkbox" : "radio", name, id, value: String(index),
        checked: chosen, "aria-describedby": errorId });
      return { option, input, label: el("label", { for: id, class: "gp-choice" }, input, " ", option.label ?? show(option.value)) };
    });
    controls.push(el("div", { class: "gp-choices", role: multiple ? "group" : "radiogroup",
      "aria-labelledby": `${name}-prompt` }, options.map((o) => o.label)));
    if (multiple && view.min_selected !== undefined) hints.push(`at least ${view.min_selected}`);
    if (multiple && view.max_selected !== undefined) hints.push(`at most ${view.max_selected}`);
    read = () => {
      const chosen = options.filter((o) => o.input.checked).map((o) => o.option.value);
      if (multiple) return chosen;
      return chosen.length ? chosen[0] : null;
    };
  } else if (kind === "yes_no") {
    let answer = null;
    const yes = el("button", { type: "submit", class: "gp-button", id: "gp-answer-yes", "data-answer": "yes" }, "Yes");
    const no = el("button", { type: "submit", class: "gp-button", id: "gp-answer-no", "data-answer": "no" }, "No");
    yes.addEventListener("click", () => { answer = true; });
    no.addEventListener("click", () => { answer = false; });
    if (previous === true) yes.classList.add("gp-primary");
    if (previous === false) no.classList.add("gp-primary");
    controls.push(el("div", { class: "gp-inline" }, yes, no));
    read = () => answer;
  } else if (kind === "number") {
    const input = el("input", { type: "number", id: `${name}-input`, name, step: "any", inputmode: "decimal",
      min: view.min, max: view.max, value: typeof previous === "number" ? String(previous) : null,
      "aria-describedby": errorId, "aria-labelledby": `${name}-prompt` });
    if (view.min !== undefined && view.max !== undefined) hints.push(`from ${view.min} to ${view.max}`);
    else if (view.min !== undefined) hints.push(`at least ${view.min}`);
    else if (view.max !== undefined) hints.push(`at most ${view.max}`);
    controls.push(input);
    read = () => {
      const raw = input.value.trim();
      if (raw === "") return input.validity.badInput ? "" : null;
      const number = Number(raw);
      return Number.isFinite(number) ? number : raw; // the server names what is wrong
    };
  } else {  // text
    const input = el("textarea", { id: `${name}-input`, name, rows: 2, maxlength: 10000,
      "aria-describedby": errorId, "aria-labelledby": `${name}-prompt` });
    if (typeof previous === "string") input.value = previous;
    if (view.min_length !== undefined) hints.push(`at least ${view.min_length} characters`);
    if (view.max_length !== undefined) hints.push(`at most ${view.max_length} characters`);
    if (view.pattern !== undefined) hints.push("in the expected format");
    controls.push(input);
    read = () => (input.value === "" ? null : input.value);
  }
  const form = el("form", { class: "gp-step-form", novalidate: true, id: "gp-answer-form", "data-kind": kind },
    el("p", { class: "gp-step-prompt", id: `${name}-prompt` }, view.prompt ?? ""),
    controls,
    hints.length ? el("p", { class: "gp-muted gp-small gp-step-hint" }, `Answer ${hints.join(", ")}.`) : null,
    fieldError(errorId),
    kind === "yes_no" ? null : el("div", { class: "gp-inline gp-step-actions" },
      el("button", { type: "submit", class: "gp-button gp-primary", id: "gp-answer-submit" }, "Next"),
      view.required ? null : el("button", { type: "button", class: "gp-button", id: "gp-answer-skip",
        onclick: () => submit(null, form) }, "Skip")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(read(), form);
  });
  return form;
}

function pluginAnswerForm(view, run, submit) {
  const id = `gp-q-${run.id}-json`;
  const input = el("textarea", { id, class: "gp-mono", rows: 4, "aria-describedby": `${id}-error` }, "{}");
  const form = el("form", { class: "gp-step-form", novalidate: true, id: "gp-answer-form", "data-kind": "plugin" },
    el("label", { for: id }, `Answer for ${view.type} (JSON)`), input, fieldError(`${id}-error`),
    el("div", { class: "gp-inline gp-step-actions" },
      el("button", { type: "submit", class: "gp-button gp-primary", id: "gp-answer-submit" }, "Send")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let value;
    try { value = JSON.parse(input.value); } catch (error) {
      showFieldError(form, { message: `not JSON: ${error.message}` });
      return;
    }
    submit(value, form);
  });
  return form;
}

function showFieldError(form, error) {
  const box = form.querySelector(".gp-field-error");
  box.textContent = error.message + (error.field && error.field !== "value" ? ` (${error.field})` : "");
  box.hidden = false;
  form.querySelectorAll("input, textarea, select").forEach((input) => input.setAttribute("aria-invalid", "true"));
  const index = /^value\/(\d+)$/.exec(error.field || "");
  const target = index && form.querySelectorAll("input")[Number(index[1])];
  (target || form.querySelector("input, textarea, button"))?.focus();
}

function clearFieldError(form) {
  const box = form.querySelector(".gp-field-error");
  if (box) box.hidden = true;
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
}

function messageBody(view) {
  // Message texts are markdown; shown as plain text, paragraphs kept (never as HTML).
  const paragraphs = String(view.text ?? "").split(/\n{2,}/).map((p) => el("p", {}, p));
  const media = el("div", { id: "gp-media", class: "gp-step-media" }, (view.media || []).map((item) => {
    const type = item.content_type || "";
    if (item.url && type.startsWith("image/")) return el("img", { src: item.url, alt: item.alt || "", "data-file-id": item.file_id });
    if (item.url && type.startsWith("video/")) {
      return el("video", { src: item.url, controls: true, preload: "metadata", "data-file-id": item.file_id, "aria-label": item.alt || "" });
    }
    return el("p", { class: "gp-media-missing gp-muted", "data-file-id": item.file_id }, `(media ${item.file_id} is missing)`);
  }));
  return [el("div", { id: "gp-message-text", class: "gp-step-text" }, paragraphs), media];
}

// -- the run: header, step, back, variables, history ------------------------------------

/** History entries as a list: when, which step, what happened, the value. */
export function historyList(history) {
  if (!history || !history.length) return el("p", { class: "gp-muted gp-small" }, "Nothing recorded yet.");
  return el("ol", { class: "gp-timeline gp-run-history" }, history.map((entry) => {
    const what = entry.event === "handed_over"
      ? `handed over to session ${entry.value?.session_id ?? ""}`
      : `${entry.step_id ?? ""} · ${entry.event}`;
    const value = entry.event === "handed_over" || entry.value === null || entry.value === undefined
      ? null : el("code", {}, show(entry.value));
    return el("li", { "data-event": entry.event, "data-step": entry.step_id || "" },
      el("time", { datetime: entry.at }, new Date(entry.at).toLocaleTimeString()),
      what, value ? " " : null, value);
  }));
}

export function variablesList(variables) {
  const names = Object.keys(variables || {});
  if (!names.length) return el("p", { class: "gp-muted gp-small" }, "No variables.");
  return el("dl", { class: "gp-dl gp-run-variables" },
    names.flatMap((name) => [el("dt", {}, name), el("dd", { "data-variable": name }, show(variables[name]))]));
}

export function mountRun(container, initialRun, options) {
  const { post, embedApp, onChange = () => {}, onError = () => {}, readOnly = false, details = true } = options;
  let run = initialRun;
  let busy = false;

  async function send(path, body, form) {
    if (busy) return;
    busy = true;
    form?.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    if (form) clearFieldError(form);
    try {
      const next = await post(path, body);
      update(next);
      onChange(next);
    } catch (error) {
      form?.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      if (form && (error.status === 422 || error.status === 400)) showFieldError(form, error);
      else onError(error);
    } finally {
      busy = false;
    }
  }

  function stepBody(view) {
    const answer = (value, form) => send(`${runUrl(run)}/answers`, { step_id: view.step_id, value }, form);
    if (!view) return el("p", { id: "gp-abandoned" }, "This run was abandoned.");
    if (view.type === "end") {
      return el("div", { class: "gp-run-end", "data-outcome": view.outcome || "" },
        el("p", {}, el("span", { class: "gp-badge gp-outcome", id: "gp-outcome", "data-outcome": view.outcome || "" },
          outcomeLabel(view.outcome))),
        el("p", { id: "gp-end-message" }, view.message ?? ""));
    }
    if (readOnly) return el("p", { class: "gp-muted" }, `Waiting on step ${view.step_id} (${view.type}).`);
    if (view.type === "message") {
      const form = el("form", { class: "gp-step-form", id: "gp-answer-form", "data-kind": "message" },
        messageBody(view), fieldError(`gp-ack-error-${run.id}`),
        el("div", { class: "gp-inline gp-step-actions" },
          el("button", { type: "submit", class: "gp-button gp-primary", id: "gp-ack" }, "OK")));
      form.addEventListener("submit", (event) => { event.preventDefault(); answer({ ack: true }, form); });
      return form;
    }
    if (view.type === "question") return questionForm(view, run, answer);
    if (view.type === "app") {
      const holder = el("div", { id: "gp-app-frame", class: "gp-app-frame" });
      queueMicrotask(() => embedApp(holder, run));
      return holder;
    }
    if (run.status === "waiting_answer") return pluginAnswerForm(view, run, answer);
    if (view.type === "action" || run.status === "waiting_action") {
      // Nobody did the action on their own (no plugin for it): the agent reports it.
      const form = el("form", { class: "gp-step-form", id: "gp-action-form" },
        el("p", {}, `Waiting for the action `, el("code", {}, view.action || view.type), "."),
        fieldError(`gp-action-error-${run.id}`),
        el("div", { class: "gp-inline" },
          el("button", { type: "submit", class: "gp-button gp-primary", id: "gp-action-done" }, "Done"),
          el("button", { type: "button", class: "gp-button gp-danger", id: "gp-action-failed",
            onclick: () => send(`${runUrl(run)}/actions/${encodeURIComponent(view.step_id)}`, { ok: false, result: {} }, form) },
          "It failed")));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        send(`${runUrl(run)}/actions/${encodeURIComponent(view.step_id)}`, { ok: true, result: {} }, form);
      });
      return form;
    }
    return el("p", {}, `The run waits for step ${view.step_id} (${view.type}).`);
  }

  function update(next) {
    run = next;
    const view = run.view;
    const finished = FINISHED.has(run.status);
    container.dataset.status = run.status;
    container.dataset.stepId = view?.step_id || "";
    container.dataset.type = view?.type || "";
    const stepTitle = view && view.type !== "end" ? view.title : null;
    const step = el("section", { class: "gp-run-step", id: "gp-step", "data-step-id": view?.step_id || "",
      "data-type": view?.type || "", "aria-live": "polite" },
      stepTitle ? el("h3", { id: "gp-step-title" }, stepTitle) : null,
      stepBody(view));
    const actions = !readOnly && !finished && run.can_go_back
      ? el("p", { class: "gp-inline gp-run-nav" }, el("button", { type: "button", class: "gp-button gp-small", id: "gp-back",
        onclick: () => send(`${runUrl(run)}/back`, { step_id: run.current_step }) }, "← Back"))
      : null;
    const parts = [
      el("p", { class: "gp-muted gp-small gp-run-status", id: "gp-run-status" },
        `${finished ? (run.status === "completed" ? "Finished" : "Abandoned") : "In progress"} · version ${run.version}`
        + (run.mode === "self_service" ? " · self-service" : "")),
      step, actions,
    ];
    if (details) {
      parts.push(
        el("details", { class: "gp-run-details", id: "gp-run-variables" },
          el("summary", {}, "Variables"), variablesList(run.variables)),
        el("details", { class: "gp-run-details", id: "gp-run-history", open: readOnly || null },
          el("summary", {}, `History (${(run.history || []).length})`), historyList(run.history)));
    }
    container.replaceChildren(...parts.filter(Boolean));
    const first = !readOnly && step.querySelector("input, textarea");
    if (first && container.dataset.focus !== "off") first.focus({ preventScroll: true });
  }

  update(run);
  return { update, get run() { return run; } };
}
