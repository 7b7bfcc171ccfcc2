// The run page (guided_paths/run_page.py): acknowledges messages and hosts a Guided Path
// App in a sandboxed iframe through the SDK's app channel. The server renders the step and
// sets the CSP (frame-src: the app's origin only); this module only wires it up.
// window.gpRunPage reports what happened (status, errors), for people and tests alike.
import { connectApp } from "./sdk/app-channel.js";

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

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrf_token || "" },
    body: JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON: reported below by status
  }
  return { ok: response.ok, status: response.status, data };
}

function errorMessage(result) {
  const error = result.data && result.data.error;
  return error ? `${error.message}${error.field ? ` (${error.field})` : ""}` : `HTTP ${result.status}`;
}

const runUrl = `/api/v1/runs/${encodeURIComponent(config.run.id)}`;
const view = config.view || {};

function setUpMessage() {
  const button = document.getElementById("gp-ack");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const result = await post(`${runUrl}/answers`, { step_id: view.step_id, value: { ack: true } });
    if (result.ok) {
      setStatus("advanced");
      location.reload();
    } else {
      button.disabled = false;
      showError(`Could not continue: ${errorMessage(result)}`);
    }
  });
  setStatus("ready");
}

function offerRetry() {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "gp-retry";
  button.textContent = "Try again";
  button.addEventListener("click", () => {
    button.remove();
    errorBox.hidden = true;
    mountApp();
  });
  document.getElementById("gp-app-frame").after(button);
}

function mountApp() {
  const app = config.app;
  const holder = document.getElementById("gp-app-frame");
  holder.replaceChildren();
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", config.sandbox);
  iframe.setAttribute("title", app.title || app.app_id);
  iframe.setAttribute("referrerpolicy", "no-referrer");
  iframe.id = "gp-app";
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
      const result = await post(`${runUrl}/apps/${encodeURIComponent(view.step_id)}`, { output });
      if (result.ok) {
        setStatus("advanced");
        location.reload();
        return;
      }
      setStatus("refused");
      showError(`The app's output was refused: ${errorMessage(result)}`);
      offerRetry(); // nothing was stored; a fresh app and channel may try again
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

if (view.type === "message") {
  setUpMessage();
} else if (view.type === "app") {
  if (config.app_error || !config.app) {
    setStatus("app_not_allowed");
    showError(config.app_error || "this app cannot be shown");
  } else {
    mountApp();
  }
} else {
  setStatus(config.run.status);
}
