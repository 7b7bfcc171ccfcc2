// /admin/analytics: numbers, sessions per hour/day and a path funnel, through
// /api/v1/analytics/…; charts by uPlot (window.uPlot, vendored by `make install`).
// Today's numbers move as the live socket brings events: the page re-reads them.
import { api, context, duration, el, showError, socket } from "/console/assets/console.js";

const A = "/api/v1/analytics";
const $ = (id) => document.getElementById(id);
const pageError = $("gp-an-error");
const fromInput = $("gp-an-from");
const toInput = $("gp-an-to");
const pathSelect = $("gp-an-path");
const versionSelect = $("gp-an-version");
const liveBadge = $("gp-an-live");
const charts = { series: null, funnel: null };
const chartsAvailable = Boolean(context.charts && window.uPlot);
const agentNames = new Map();
let range = null;  // {from: Date, to: Date, interval}

const pad = (n) => String(n).padStart(2, "0");
const dateValue = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
function localMidnight(value) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d);
}

function readRange() {
  const from = localMidnight(fromInput.value);
  const to = localMidnight(toInput.value);
  to.setDate(to.getDate() + 1);  // inclusive day
  const days = (to - from) / 86400000;
  return { from, to, interval: days > 3 ? "day" : "hour" };
}

function query(extra = {}) {
  const params = new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString(), ...extra });
  return params.toString();
}

const includesNow = () => range && range.from <= new Date() && new Date() < range.to;

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 60 ? `${Math.round(value)}s` : duration(value);
}

function setNumber(id, text) {
  const target = $(id);
  if (target.textContent !== text) {
    const moved = target.textContent !== "–";
    target.textContent = text;
    if (moved) {
      const card = target.closest(".gp-an-number");
      card.dataset.moved = "true";
      setTimeout(() => { card.dataset.moved = "false"; }, 1500);
    }
  }
}

async function loadOverview() {
  const o = await api("GET", `${A}/overview?${query()}`);
  setNumber("gp-an-sessions-total", String(o.sessions.total));
  setNumber("gp-an-sessions-active", String(o.sessions.by_state.active));
  setNumber("gp-an-sessions-ended", String(o.sessions.by_state.ended));
  setNumber("gp-an-sessions-resolved", String(o.sessions.resolved));
  setNumber("gp-an-resolution-rate",
    o.sessions.resolution_rate === null ? "–" : `${Math.round(o.sessions.resolution_rate * 100)}%`);
  setNumber("gp-an-median-wait", seconds(o.sessions.median_wait_seconds));
  setNumber("gp-an-median-handle", seconds(o.sessions.median_handle_seconds));
  setNumber("gp-an-runs-started", String(o.runs.started));
  setNumber("gp-an-runs-completed", String(o.runs.completed));
  setNumber("gp-an-relay-remote", seconds(o.relay.remote_control_seconds));
  setNumber("gp-an-relay-camera", seconds(o.relay.camera_seconds));
  $("gp-an-overview-csv").href = `${A}/overview?${query({ format: "csv" })}`;
}

function chartWidth(element) {
  return Math.max(320, element.clientWidth || element.parentElement.clientWidth - 32);
}

function draw(key, element, options, data) {
  if (!chartsAvailable) return;
  if (charts[key]) charts[key].destroy();
  charts[key] = new window.uPlot({ width: chartWidth(element), height: 280, ...options }, data, element);
}

async function loadSeries() {
  const s = await api("GET", `${A}/sessions?${query({ interval: range.interval })}`);
  $("gp-an-interval-label").textContent = range.interval;
  $("gp-an-series-csv").href = `${A}/sessions?${query({ interval: range.interval, format: "csv" })}`;
  const xs = s.items.map((item) => Date.parse(item.start) / 1000);
  const pick = (name) => s.items.map((item) => item[name]);
  const element = $("gp-an-series-chart");
  draw("series", element, {
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
    series: [
      {},
      { label: "Created", stroke: "#3151d3", width: 2, fill: "rgba(49, 81, 211, 0.08)" },
      { label: "Answered", stroke: "#19703a", width: 2 },
      { label: "Ended", stroke: "#8a5800", width: 2 },
      { label: "Resolved", stroke: "#7a3fb0", width: 2, dash: [6, 4] },
    ],
    axes: [{}, { label: "sessions" }],
  }, [xs, pick("created"), pick("active"), pick("ended"), pick("resolved")]);
}

async function loadAgents() {
  const a = await api("GET", `${A}/agents?${query()}`);
  $("gp-an-agents-csv").href = `${A}/agents?${query({ format: "csv" })}`;
  const rows = a.items.map((item) => el("tr", { "data-agent": item.agent_id },
    el("td", {}, agentNames.get(item.agent_id) || item.agent_id),
    el("td", {}, String(item.answered)), el("td", {}, String(item.ended)), el("td", {}, String(item.resolved)),
    el("td", {}, item.resolution_rate === null ? "–" : `${Math.round(item.resolution_rate * 100)}%`),
    el("td", {}, seconds(item.median_wait_seconds)), el("td", {}, seconds(item.median_handle_seconds))));
  $("gp-an-agents-rows").replaceChildren(...rows);
  $("gp-an-agents-empty").hidden = rows.length > 0;
}

async function loadFunnel() {
  const pathId = pathSelect.value;
  if (!pathId) {
    $("gp-an-funnel-empty").hidden = false;
    return;
  }
  const version = versionSelect.value;
  const extra = version ? { version } : {};
  const f = await api("GET", `${A}/paths/${encodeURIComponent(pathId)}/funnel?${query(extra)}`);
  const csv = $("gp-an-funnel-csv");
  csv.href = `${A}/paths/${encodeURIComponent(pathId)}/funnel?${query({ ...extra, format: "csv" })}`;
  csv.hidden = false;
  const current = versionSelect.value;
  versionSelect.replaceChildren(el("option", { value: "" }, "Latest with runs"),
    ...f.versions.map((v) => el("option", { value: String(v) }, `v${v}`)));
  versionSelect.value = current;
  const labels = ["Started", ...f.steps.map((s) => s.step_id)];
  const values = [f.started, ...f.steps.map((s) => s.reached)];
  $("gp-an-funnel-empty").hidden = f.started > 0 || f.steps.length > 0;
  $("gp-an-funnel-rows").replaceChildren(...f.steps.map((s) => el("tr", { "data-step": s.step_id },
    el("td", { class: "gp-mono" }, s.step_id), el("td", {}, String(s.reached)), el("td", {}, String(s.drop_off)),
    el("td", {}, seconds(s.median_seconds)))));
  const element = $("gp-an-funnel-chart");
  draw("funnel", element, {
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
    series: [
      {},
      { label: "Runs", stroke: "#3151d3", fill: "rgba(49, 81, 211, 0.55)",
        paths: window.uPlot?.paths?.bars ? window.uPlot.paths.bars({ size: [0.6, 80] }) : undefined,
        points: { show: false } },
    ],
    axes: [
      { splits: () => labels.map((_, i) => i), values: (u, splits) => splits.map((i) => labels[i] ?? "") },
      { label: "runs" },
    ],
    legend: { show: false },
  }, [labels.map((_, i) => i), values]);
}

async function loadPaths() {
  try {
    const page = await api("GET", "/api/v1/guided-paths?limit=200&status=all");
    pathSelect.replaceChildren(...page.items.map((p) => el("option", { value: p.id }, `${p.title} (${p.key})`)));
  } catch (error) {
    pathSelect.replaceChildren(el("option", { value: "" }, "Guided Paths unavailable"));
  }
}

async function loadNames() {
  try {
    const page = await api("GET", "/api/v1/users?limit=200");
    for (const user of page.items) agentNames.set(user.id, user.name || user.email);
  } catch (error) { /* ids then */ }
}

async function refresh({ all = true } = {}) {
  liveBadge.dataset.state = "updating";
  try {
    const work = [loadOverview(), loadSeries()];
    if (all) work.push(loadAgents(), loadFunnel());
    await Promise.all(work);
    pageError.hidden = true;
  } catch (error) {
    showError(pageError, error);
  } finally {
    liveBadge.dataset.state = "idle";
  }
}

// An event reaches the socket before the analytics plugin has counted it: read
// again shortly, and once more a little later.
let timers = [];
function soon() {
  if (!includesNow()) return;
  for (const t of timers) clearTimeout(t);
  timers = [setTimeout(() => refresh({ all: false }), 400), setTimeout(() => refresh(), 2000)];
}

for (const type of ["session.created", "session.state_changed", "run.started", "run.step_completed",
  "run.completed", "relay.disconnected"]) {
  socket.on(type, soon);
}
socket.onReconnect(() => refresh());
setInterval(() => { if (includesNow()) refresh(); }, 60000);

function setToday() {
  const today = dateValue(new Date());
  fromInput.value = today;
  toInput.value = today;
  range = readRange();
}

$("gp-an-range").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!fromInput.value || !toInput.value || toInput.value < fromInput.value) {
    showError(pageError, new Error("Choose a start day and an end day on or after it."));
    return;
  }
  range = readRange();
  refresh();
});
$("gp-an-today").addEventListener("click", () => { setToday(); refresh(); });
pathSelect.addEventListener("change", () => { versionSelect.value = ""; loadFunnel().catch((e) => showError(pageError, e)); });
versionSelect.addEventListener("change", () => loadFunnel().catch((e) => showError(pageError, e)));
window.addEventListener("resize", () => {
  for (const [key, chart] of Object.entries(charts)) {
    if (chart) chart.setSize({ width: chartWidth($(`gp-an-${key}-chart`)), height: 280 });
  }
});

setToday();
await Promise.all([loadPaths(), loadNames()]);
await refresh();
document.body.dataset.analyticsReady = "true";
