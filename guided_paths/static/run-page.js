// The run page (guided_paths/run_page.py): the run's step drawn by the shared renderer
// (step-view.js, the same as the console's runner panel), and a Guided Path App hosted in
// a sandboxed iframe through the SDK's app channel. The server sets the CSP (frame-src:
// the current app's origin only), so when the run reaches an app step the page reloads
// to get that app's policy. With ?embed=1 (the runner panel frames the page for an app
// step) it tells its parent window, same origin only, whenever the run changed.
// window.gpRunPage reports what happened (status, errors), for people and tests alike.
import "/console/assets/console.js"; // the console's menu bar and live socket
import { connectApp } from "./sdk/app-channel.js";
import { mountRun } from "./step-view.js";

const config = JSON.parse(document.getElementById("gp-run-config").textContent);
const errorBox = document.getElementById("gp-error");
const page = (window.gpRunPage = { status: "loaded", errors: [], connections: 0, stats: null });

function setStatus(status) {
  page.status = status;
  document.body.dataset.state = status;
}

function showError(message) {
  page.errors.push(message);
  errorBox.textContent = message;
  errorBox.hidden = false;
}

class RequestError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "error";
    this.field = error?.field || null;
  }
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": config.csrf_token || "" },
    body: JSON.stringify(body),
  });
  if (response.status === 401) {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  let data = null;
  try { data = await response.json(); } catch { /* not JSON: reported by status */ }
  if (!response.ok) throw new RequestError(response.status, data && data.error);
  return data;
}

function errorMessage(error) {
  return `${error.message}${error.field ? ` (${error.field})` : ""}`;
}

function tellParent(run) {
  if (config.embed && window.parent !== window) {
    window.parent.postMessage({ type: "guidepath:run-changed", run_id: run.id, status: run.status }, location.origin);
  }
}

const initialView = config.run.view || {};

function changed(run) {
  errorBox.hidden = true;
  tellParent(run);
  if (run.view && run.view.type === "app" && run.view.step_id !== initialView.step_id) {
    setStatus("advanced");
    location.reload(); // the app's origin needs this page's CSP to allow it
    return;
  }
  setStatus(run.view?.type === "message" ? "ready" : "advanced");
}

function offerRetry(holder) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "gp-retry";
  button.className = "gp-button";
  button.textContent = "Try again";
  button.addEventListener("click", () => {
    button.remove();
    errorBox.hidden = true;
    mountApp(holder);
  });
  holder.after(button);
}

function mountApp(holder) {
  const view = config.run.view || {};
  if (config.app_error || !config.app) {
    setStatus("app_not_allowed");
    showError(config.app_error || "this app cannot be shown");
    return;
  }
  const app = config.app;
  holder.replaceChildren();
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", config.sandbox);
  iframe.setAttribute("title", app.title || app.app_id);
  iframe.setAttribute("referrerpolicy", "no-referrer");
  iframe.id = "gp-app";
  iframe.className = "gp-app";
  holder.append(iframe);

  const options = {
    iframe,
    appOrigin: app.origin,
    context: {
      run_id: config.run.id,
      step_id: view.step_id,
      path_key: view.path_key,
      locale: config.run.locale,
      input: view.input || {},
    },
    // Immediate feedback for the app; the server checks the output again, for real.
    outputSchema: app.output_schema,
    async onOutput(output) {
      setStatus("sending");
      try {
        const run = await post(`/api/v1/runs/${encodeURIComponent(config.run.id)}/apps/${encodeURIComponent(view.step_id)}`, { output });
        runView.update(run);
        changed(run);
      } catch (error) {
        setStatus("refused");
        showError(`The app's output was refused: ${errorMessage(error)}`);
        offerRetry(holder); // nothing was stored; a fresh app and channel may try again
      }
    },
    onReject(error) {
      showError(error.message);
    },
    onError(error) {
      setStatus("failed");
      showError(error.message);
    },
    timeoutMs: 15000,
  };
  let connection;
  try {
    connection = connectApp(options);
  } catch (error) {
    if (error.code !== "invalid_argument" || !String(error.message).startsWith("outputSchema")) throw error;
    // A schema the browser-side checker does not implement: the server alone checks it.
    delete options.outputSchema;
    connection = connectApp(options);
  }
  page.connections += 1;
  page.stats = connection.stats;
  iframe.src = app.url; // after connectApp: its first ready cannot be missed
  setStatus("app");
}

const container = document.getElementById("gp-run-view");
container.dataset.focus = "off";
const runView = mountRun(container, config.run, {
  post,
  embedApp: (holder) => mountApp(holder),
  onChange: changed,
  onError: (error) => showError(`Could not continue: ${errorMessage(error)}`),
  details: !config.embed,
});
container.dataset.focus = "on";
const view = config.run.view;
if (!view || view.type !== "app") setStatus(view && view.type === "message" ? "ready" : config.run.status);
