// The Guided Path panel of a support session's page in the agent console (the
// session_panels hook of guided_paths/plugin.py). It starts a run of a published path
// linked to the session, draws its steps with the same renderer as the run page
// (step-view.js), frames the run page for app steps, follows the run live (run.*
// events carry the session's id), and lists the session's earlier runs with their
// history — a self-service run escalated into this session included. Once the session
// has ended the panel is read only: the runs' history, nothing to answer.
import { FINISHED, el, historyList, mountRun, outcomeLabel } from "./step-view.js";

const PATHS = "/api/v1/guided-paths";
const RUNS = "/api/v1/runs";

async function allPages(api, path) {
  const items = [];
  let next = null;
  do {
    const page = await api("GET", `${path}${path.includes("?") ? "&" : "?"}limit=200${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
    items.push(...page.items);
    next = page.next;
  } while (next && items.length < 2000);
  return items;
}

export async function mount(element, { session, readOnly, socket, api }) {
  const errorBox = el("div", { class: "gp-alert gp-error", role: "alert", id: "gp-runner-error", hidden: true });
  const current = el("div", { id: "gp-runner", class: "gp-run" });
  const earlier = el("div", { id: "gp-runner-earlier" });
  element.replaceChildren(errorBox, current, earlier);
  const titles = new Map();
  let shown = null; // {run, view}

  function fail(error) {
    errorBox.textContent = error.message || String(error);
    errorBox.hidden = false;
  }

  async function titleOf(run) {
    if (run.path_title) return run.path_title;
    if (!titles.has(run.path_id)) {
      try {
        titles.set(run.path_id, (await api("GET", `${PATHS}/${encodeURIComponent(run.path_id)}`)).title);
      } catch { titles.set(run.path_id, run.path_key); }
    }
    return titles.get(run.path_id);
  }

  // -- an app step: the run page itself, framed (same origin), hosts the app --------------
  function embedApp(holder, run) {
    const frame = el("iframe", { id: "gp-run-embed", class: "gp-run-embed", title: "Guided Path App",
      src: `/guided-paths/runs/${encodeURIComponent(run.id)}?embed=1` });
    holder.replaceChildren(frame);
  }
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || event.data?.type !== "guidepath:run-changed") return;
    if (shown && event.data.run_id === shown.run.id) refresh();
  });

  // -- the current run ----------------------------------------------------------------
  async function showRun(run) {
    errorBox.hidden = true;
    const heading = el("h3", { class: "gp-run-title", id: "gp-runner-title" }, await titleOf(run));
    const box = el("div", { class: "gp-run-body" });
    current.replaceChildren(heading, box);
    const view = mountRun(box, run, {
      post: (path, body) => api("POST", path, body),
      embedApp,
      readOnly,
      onChange: (next) => { if (FINISHED.has(next.status)) listEarlier(); },
      onError: fail,
    });
    shown = { run, view };
    element.dataset.runId = run.id;
    element.dataset.status = run.status;
  }

  async function refresh() {
    if (!shown) return load();
    try {
      const run = await api("GET", `${RUNS}/${encodeURIComponent(shown.run.id)}`);
      const before = shown.view.run;
      if (run.status === before.status && run.current_step === before.current_step
          && (run.history || []).length === (before.history || []).length) return; // nothing new: keep the form
      shown.view.update(run);
      element.dataset.status = run.status;
      if (FINISHED.has(run.status)) listEarlier();
    } catch (error) { fail(error); }
  }

  async function showPicker() {
    shown = null;
    delete element.dataset.runId;
    if (readOnly) {
      current.replaceChildren();
      return;
    }
    const select = el("select", { id: "gp-runner-path", required: true }, el("option", { value: "" }, "Loading…"));
    const start = el("button", { type: "submit", class: "gp-button gp-primary", id: "gp-runner-start" }, "Start");
    const form = el("form", { class: "gp-inline", id: "gp-runner-form" },
      el("label", { class: "gp-field", for: "gp-runner-path" }, el("span", {}, "Run a Guided Path"), select), start);
    current.replaceChildren(form);
    try {
      const paths = (await allPages(api, `${PATHS}?status=active`)).filter((p) => p.latest_version !== null);
      paths.sort((a, b) => a.title.localeCompare(b.title));
      select.replaceChildren(el("option", { value: "" }, paths.length ? "Choose a path…" : "No published path yet"),
        ...paths.map((p) => el("option", { value: p.id, "data-key": p.key }, p.title)));
    } catch (error) { fail(error); }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!select.value) return;
      start.disabled = true;
      try {
        const run = await api("POST", RUNS, { path_id: select.value, session_id: session.id, mode: "agent" });
        await showRun(run);
      } catch (error) {
        start.disabled = false;
        fail(error);
      }
    });
  }

  // -- earlier runs of the session (self-service ones handed over included) ------------
  async function listEarlier(runs) {
    try {
      runs = runs || await allPages(api, `${RUNS}?session_id=${encodeURIComponent(session.id)}`);
    } catch (error) { fail(error); return; }
    const done = readOnly ? runs : runs.filter((r) => FINISHED.has(r.status) && r.id !== shown?.run.id);
    if (!done.length) { earlier.replaceChildren(); return; }
    const items = await Promise.all(done.reverse().map(async (run) => {
      const details = el("details", { class: "gp-run-details", "data-run-id": run.id, open: readOnly || null });
      const label = [await titleOf(run), run.outcome ? outcomeLabel(run.outcome) : run.status,
        run.mode === "self_service" ? (run.handed_over_at ? "self-service, handed over" : "self-service") : null]
        .filter(Boolean).join(" · ");
      const body = el("div", {}, el("p", { class: "gp-muted gp-small" }, "Loading…"));
      details.append(el("summary", {}, label), body);
      const loadHistory = async () => {
        try {
          const full = await api("GET", `${RUNS}/${encodeURIComponent(run.id)}`);
          body.replaceChildren(historyList(full.history));
        } catch (error) { body.replaceChildren(el("p", { class: "gp-field-error" }, error.message)); }
      };
      if (readOnly) loadHistory();
      else details.addEventListener("toggle", () => { if (details.open) loadHistory(); }, { once: true });
      return details;
    }));
    const again = !readOnly && shown && FINISHED.has(shown.run.status)
      ? el("button", { type: "button", class: "gp-button gp-small", id: "gp-runner-new", onclick: async () => { await showPicker(); await listEarlier(); } }, "Run another path")
      : null;
    earlier.replaceChildren(el("h3", {}, readOnly ? "Runs" : "Earlier runs"), ...items, again ? el("p", {}, again) : "");
  }

  async function load() {
    let runs;
    try {
      runs = await allPages(api, `${RUNS}?session_id=${encodeURIComponent(session.id)}`);
    } catch (error) { fail(error); return; }
    const live = [...runs].reverse().find((r) => !FINISHED.has(r.status));
    if (live && !readOnly) {
      try { await showRun(await api("GET", `${RUNS}/${encodeURIComponent(live.id)}`)); } catch (error) { fail(error); }
    } else if (!readOnly) {
      await showPicker();
    } else {
      current.replaceChildren(runs.length ? "" : el("p", { class: "gp-muted", id: "gp-runner-none" }, "No Guided Path was run in this session."));
    }
    await listEarlier(runs);
    element.dataset.ready = "true";
  }

  // Live: the run moved on elsewhere (the customer's app, another tab), or a run was
  // handed over into this session.
  let pending = null;
  socket?.on("*", (event) => {
    if (!event.type?.startsWith("run.") || event.data?.session_id !== session.id) return;
    clearTimeout(pending);
    pending = setTimeout(() => (shown && event.data.run_id === shown.run.id ? refresh() : load()), 150);
  });
  socket?.onReconnect(() => refresh());

  await load();
}
