// /admin/plugins: every installed plugin with its state; enable, disable, and a
// settings form generated from the plugin's JSON Schema (schema-form.js). The server
// validates; its 422 names the field (`settings.<path>`) and is shown at that input.
import { ApiError, api, el, showError } from "./console.js";
import { buildForm, clearErrors, kindOf, pathOfField, readForm, showErrors } from "./schema-form.js";

const list = document.getElementById("gp-plugins");
const pageError = document.getElementById("gp-plugins-error");
const count = document.getElementById("gp-plugins-count");

/** "settings.max_fps: 500 is greater than the maximum of 60 (plugin 'x')" → "500 is greater than the maximum of 60". */
function inlineMessage(message) {
  return String(message).replace(/^settings[^:]*:\s*/, "").replace(/\s*\(plugin '[^']*'\)\s*$/, "");
}

function hasSettings(schema) {
  if (kindOf(schema) === "object") return true;
  return !(schema?.type === "object" && schema.additionalProperties === false && !schema.patternProperties);
}

function card(plugin) {
  const id = `gp-plugin-${plugin.name.replace(/[^A-Za-z0-9_-]+/g, "_")}`;
  const section = el("section", { class: "gp-card gp-plugin", id, "data-plugin": plugin.name, "aria-labelledby": `${id}-title` });
  const alert = el("div", { class: "gp-alert gp-error", role: "alert", hidden: true, id: `${id}-error` });
  const notice = el("div", { class: "gp-alert gp-success", role: "status", hidden: true, id: `${id}-notice` });
  const state = el("span", { class: "gp-badge", id: `${id}-state` });
  const toggle = el("button", { type: "button", class: "gp-button gp-small", id: `${id}-toggle` });
  let current = plugin;

  const drawState = () => {
    state.textContent = current.enabled ? "enabled" : "disabled";
    state.dataset.enabled = String(current.enabled);
    toggle.textContent = current.enabled ? "Disable" : "Enable";
    toggle.classList.toggle("gp-danger", current.enabled);
    toggle.classList.toggle("gp-primary", !current.enabled);
  };

  const say = (element, message) => { element.textContent = message; element.hidden = false; };
  const quiet = () => { alert.hidden = true; notice.hidden = true; };

  toggle.addEventListener("click", async () => {
    quiet();
    toggle.disabled = true;
    try {
      current = await api("PUT", `/api/v1/plugins/${encodeURIComponent(current.name)}`, { enabled: !current.enabled });
      drawState();
      say(notice, `${current.name} is ${current.enabled ? "enabled" : "disabled"}.`);
    } catch (error) {
      showError(alert, error);
    } finally {
      toggle.disabled = false;
    }
  });

  const head = el("h2", { id: `${id}-title` }, el("span", { class: "gp-plugin-name" }, current.name),
    el("span", { class: "gp-badge gp-mono" }, `v${current.version}`), current.builtin ? el("span", { class: "gp-badge" }, "built-in") : null,
    state, el("span", { class: "gp-actions" }, toggle));
  section.append(head, el("p", { class: "gp-muted" }, current.description || "No description."), alert, notice);

  if (!hasSettings(current.settings_schema)) {
    section.append(el("p", { class: "gp-small gp-muted" }, "This plugin has no settings."));
    drawState();
    return section;
  }

  const formHolder = el("div", {});
  const save = el("button", { type: "submit", class: "gp-button gp-primary", id: `${id}-save` }, "Save settings");
  const reset = el("button", { type: "button", class: "gp-button", id: `${id}-reset` }, "Undo changes");
  const form = el("form", { class: "gp-plugin-settings", id: `${id}-settings`, novalidate: true, "aria-label": `${current.name} settings` },
    el("h3", {}, "Settings"), formHolder, el("div", { class: "gp-dialog-actions gp-start" }, save, reset));
  let generated = null;
  const draw = () => {
    generated = buildForm(current.settings_schema, current.settings, { idPrefix: `${id}-s` });
    formHolder.replaceChildren(generated);
  };
  reset.addEventListener("click", () => { quiet(); draw(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    quiet();
    clearErrors(generated);
    const { value, errors } = readForm(generated);
    if (errors.length) {
      const rest = showErrors(generated, errors);
      if (rest.length) say(alert, rest.map((e) => e.message).join(" "));
      else say(alert, "Some settings need fixing: see the highlighted fields.");
      return;
    }
    save.disabled = true;
    try {
      current = await api("PUT", `/api/v1/plugins/${encodeURIComponent(current.name)}`, { settings: value ?? {} });
      draw();
      drawState();
      say(notice, "Settings saved.");
    } catch (error) {
      const path = error instanceof ApiError && error.status === 422 ? pathOfField(error.field) : null;
      if (path !== null) {
        const rest = showErrors(generated, [{ path, message: inlineMessage(error.message) }]);
        say(alert, rest.length ? error.message : "The settings were not saved: see the highlighted field.");
      } else {
        showError(alert, error);
      }
    } finally {
      save.disabled = false;
    }
  });
  draw();
  drawState();
  section.append(form);
  return section;
}

async function load() {
  try {
    const page = await api("GET", "/api/v1/plugins");
    const items = page.items;
    count.textContent = `${items.filter((p) => p.enabled).length} of ${items.length} enabled`;
    list.replaceChildren(...(items.length ? items.map(card) : [el("p", { class: "gp-empty" }, "No plugins are installed.")]));
    document.body.dataset.ready = "true";
  } catch (error) {
    showError(pageError, error);
  }
}

load();
