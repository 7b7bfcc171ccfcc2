// The /nexus page (plugins/remote_control/viewer.py): watch, and for remote control drive,
// a customer's device through the relay, and play the session's recordings back.
//
// Live: POST …/relay-tickets {kind, role: "viewer"} → WebSocket to ticket.relay.ws →
// HELLO / ACK with relay-codec.js → frames drawn on the canvas, input sent back. When
// the connection drops for a reason a new ticket can fix, the page asks for one and
// connects again (with backoff); otherwise it says why it stopped.
// window.gpNexus reports what happened (state, frames, inputs, errors), for people and tests.
import {
  CloseCode,
  FrameType,
  IMAGE_MIME,
  ImageFormat,
  ProtocolError,
  RECORDING_SOURCE,
  RelayRefused,
  ViewerChannel,
  decodeImage,
  decodeKey,
  decodeRecording,
  describeClose,
  encodeClipboard,
  encodeClose,
  encodeInput,
  modifiersOf,
  pingPayload,
  pingStamp,
} from "./relay-codec.js";

const config = JSON.parse(document.getElementById("gp-nexus-config").textContent);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const interactive = config.kind === "remote_control";

const $ = (id) => document.getElementById(id);
const canvas = $("gp-canvas");
const context2d = canvas.getContext("2d");

const page = (window.gpNexus = {
  state: "idle",
  peer: null,
  kind: config.kind,
  connections: 0,
  framesDrawn: 0,
  framesReceived: 0,
  display: null,
  inputsSent: 0,
  lastInput: null,
  deviceInfo: null,
  clipboard: null,
  fps: 0,
  latencyMs: null,
  close: null,
  errors: [],
  playback: { state: "none", records: 0, framesDrawn: 0, position: 0, duration: 0 },
});

// -- small helpers ------------------------------------------------------------------------

const STATE_TEXT = {
  idle: "Starting…",
  ticket: "Asking for a ticket…",
  connecting: "Connecting to the relay…",
  connected: "Connected",
  reconnecting: "Connection lost; reconnecting…",
  ended: "Ended",
  closed: "Disconnected",
  error: "Stopped",
};

function setState(state, detail = "") {
  page.state = state;
  const box = $("gp-state");
  box.dataset.state = state;
  box.textContent = detail ? `${STATE_TEXT[state]} ${detail}` : STATE_TEXT[state];
  document.body.dataset.state = state;
  $("gp-reconnect").hidden = !["closed", "error"].includes(state);
  $("gp-end").disabled = ["ended", "closed", "error"].includes(state);
}

function showMessage(text) {
  const box = $("gp-message");
  box.textContent = text;
  box.hidden = !text;
}

function reportError(text) {
  page.errors.push(text);
  showMessage(text);
}

const PEER_TEXT = {
  waiting: "Device: waiting for the customer's device",
  connected: "Device: connected",
  reconnecting: "Device: reconnecting",
  gone: "Device: gone",
};

function setPeer(status) {
  page.peer = status.device;
  const box = $("gp-peer");
  box.dataset.peer = status.device;
  const grace = status.grace_seconds ? ` (up to ${Math.round(status.grace_seconds)} s)` : "";
  box.textContent = (PEER_TEXT[status.device] || `Device: ${status.device}`) + grace;
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if ((response.headers.get("Content-Type") || "").includes("json")) {
    try {
      data = await response.json();
    } catch {
      // reported by status below
    }
  }
  return { ok: response.ok, status: response.status, data, response };
}

function apiError(result) {
  const error = result.data && result.data.error;
  return error ? error.message : `HTTP ${result.status}`;
}

// -- drawing ---------------------------------------------------------------------------------

/** Draw one image frame (region) on a 2D context, resizing the canvas to the display. */
async function drawImage(target, ctx, image) {
  if (target.width !== image.displayWidth || target.height !== image.displayHeight) {
    target.width = image.displayWidth; // resizing clears it: the device sends a full frame next
    target.height = image.displayHeight;
  }
  if (image.format === ImageFormat.RAW_RGBA) {
    const pixels = new Uint8ClampedArray(image.data.length);
    pixels.set(image.data);
    ctx.putImageData(new ImageData(pixels, image.width, image.height), image.x, image.y);
    return;
  }
  const bitmap = await createImageBitmap(new Blob([image.data], { type: IMAGE_MIME[image.format] }));
  try {
    ctx.drawImage(bitmap, image.x, image.y, image.width, image.height);
  } finally {
    bitmap.close();
  }
}

/**
 * Draws live frames in arrival order, one decode at a time. Frames waiting behind a
 * newer full frame are skipped: the full frame covers them.
 */
class FramePainter {
  constructor(target) {
    this.target = target;
    this.ctx = target.getContext("2d");
    this.queue = [];
    this.busy = false;
    this.drawnAt = [];
  }

  push(image) {
    if (image.full) this.queue.length = 0;
    this.queue.push(image);
    if (!this.busy) this._drain();
  }

  async _drain() {
    this.busy = true;
    while (this.queue.length) {
      const image = this.queue.shift();
      try {
        await drawImage(this.target, this.ctx, image);
        page.framesDrawn += 1;
        page.display = { width: image.displayWidth, height: image.displayHeight };
        this.drawnAt.push(performance.now());
      } catch (err) {
        page.errors.push(`a frame could not be drawn: ${err.message}`);
      }
    }
    this.busy = false;
  }

  fps() {
    const since = performance.now() - 2000;
    this.drawnAt = this.drawnAt.filter((t) => t >= since);
    return this.drawnAt.length / 2;
  }
}

const painter = new FramePainter(canvas);

// -- the live connection ------------------------------------------------------------------

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 10000];
const MAX_RETRIES = 8;
const PING_EVERY_MS = 2000;

let ws = null;
let channel = null;
let ended = false; // the agent pressed End: never reconnect
let retries = 0;
let retryTimer = null;
let pingTimer = null;
let connectionSerial = 0;

async function requestTicket() {
  const result = await api("POST", config.tickets_url, { kind: config.kind, role: "viewer" });
  if (!result.ok) {
    const error = new Error(apiError(result));
    error.status = result.status;
    throw error;
  }
  return result.data;
}

async function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (ended) return;
  const serial = ++connectionSerial;
  setState(retries ? "reconnecting" : "ticket");
  let grant;
  try {
    grant = await requestTicket();
  } catch (err) {
    // 409 (session not active / ended), 403, 404 (plugin off): a new try won't help by itself.
    const transient = !err.status || err.status >= 500 || err.status === 429;
    reportError(`Could not get a viewer ticket: ${err.message}`);
    if (transient) scheduleRetry();
    else setState("error");
    return;
  }
  if (serial !== connectionSerial || ended) return;
  setState(retries ? "reconnecting" : "connecting");
  let ch;
  try {
    ch = await ViewerChannel.create(decodeKey(grant.key));
  } catch (err) {
    reportError(`The viewer ticket cannot be used here: ${err.message}`);
    setState("error");
    return;
  }
  let socket;
  try {
    socket = new WebSocket(grant.relay.ws);
  } catch (err) {
    reportError(`Could not connect to the relay at ${grant.relay.ws}: ${err.message}`);
    scheduleRetry();
    return;
  }
  socket.binaryType = "arraybuffer";
  ws = socket;
  channel = ch;
  let closeInfo = null; // from a CLOSE frame or a refusal, before the socket closes
  socket.addEventListener("open", () => socket.send(ch.hello(grant.ticket)));
  socket.addEventListener("message", (event) => {
    if (closeInfo && closeInfo.ours) return; // we are closing after a protocol error
    ch.receive(typeof event.data === "string" ? event.data : new Uint8Array(event.data))
      .then((frames) => {
        // One message may hold several frames (the relay sends what is ready together).
        for (const frame of frames) handleFrame(socket, ch, frame, (info) => { closeInfo = info; });
      })
      .catch((err) => {
        if (err instanceof RelayRefused) {
          closeInfo = { code: err.code, reason: err.reason };
          return;
        }
        const code = err instanceof ProtocolError ? err.code : CloseCode.INTERNAL_ERROR;
        closeInfo = { code, reason: err.message, ours: true };
        failConnection(socket, ch, code, err.message);
      });
  });
  socket.addEventListener("close", (event) => {
    if (ws === socket) {
      ws = null;
      channel = null;
    }
    stopPinging();
    const info = closeInfo || { code: event.code, reason: event.reason };
    onClosed(info);
  });
}

function failConnection(socket, ch, code, message) {
  page.errors.push(`protocol error ${code}: ${message}`);
  if (ch.ack && !ch.closed && socket.readyState === WebSocket.OPEN) {
    ch.seal(FrameType.CLOSE, encodeClose(code, message)).then((wire) => socket.send(wire)).catch(() => {});
  }
  // JS may only close with 1000 or 3000–4999.
  setTimeout(() => socket.close(code >= 3000 && code <= 4999 ? code : 1000), 50);
}

function handleFrame(socket, ch, frame, setCloseInfo) {
  switch (frame.type) {
    case FrameType.ACK:
      page.connections += 1;
      page.ack = frame.value;
      retries = 0;
      showMessage("");
      setState("connected");
      startPinging(socket, ch);
      break;
    case FrameType.SCREEN:
    case FrameType.CAMERA:
      page.framesReceived += 1;
      painter.push(frame.value);
      break;
    case FrameType.DEVICE_INFO:
      showDeviceInfo(frame.value);
      break;
    case FrameType.PEER_STATUS:
      setPeer(frame.value);
      break;
    case FrameType.CLIPBOARD:
      page.clipboard = frame.value;
      if ($("gp-clipboard")) $("gp-clipboard").value = frame.value;
      break;
    case FrameType.PING:
      ch.seal(FrameType.PONG, frame.payload).then((wire) => socket.send(wire)).catch(() => {});
      break;
    case FrameType.PONG: {
      const rtt = performance.now() - pingStamp(frame.payload);
      if (rtt >= 0 && rtt < 600000) page.latencyMs = Math.round(rtt);
      break;
    }
    case FrameType.CLOSE:
      setCloseInfo(frame.value);
      socket.close(1000);
      break;
    default:
      break;
  }
}

function onClosed(info) {
  page.close = info;
  if (ended) {
    setState("ended");
    return;
  }
  const described = describeClose(info.code, info.reason);
  if (info.code === CloseCode.NORMAL) {
    setState("closed");
    showMessage(`${described.message} Press Reconnect to watch again.`);
    return;
  }
  if (described.retry && retries < MAX_RETRIES) {
    showMessage(`${described.message} Reconnecting…`);
    scheduleRetry();
    return;
  }
  reportError(`${described.message} (code ${info.code})`);
  setState(described.retry ? "closed" : "error");
}

function scheduleRetry() {
  if (ended) return;
  if (retries >= MAX_RETRIES) {
    setState("closed");
    return;
  }
  const delay = RETRY_DELAYS_MS[Math.min(retries, RETRY_DELAYS_MS.length - 1)];
  retries += 1;
  setState("reconnecting", `(attempt ${retries})`);
  retryTimer = setTimeout(connect, delay);
}

function startPinging(socket, ch) {
  stopPinging();
  pingTimer = setInterval(() => {
    if (socket.readyState !== WebSocket.OPEN) return;
    ch.seal(FrameType.PING, pingPayload(performance.now())).then((wire) => socket.send(wire)).catch(() => {});
  }, PING_EVERY_MS);
}

function stopPinging() {
  clearInterval(pingTimer);
  pingTimer = null;
}

/** Seal and send a frame on the live connection; false when there is none. */
function send(type, payload) {
  const socket = ws;
  const ch = channel;
  if (!socket || !ch || !ch.ack || ch.closed || socket.readyState !== WebSocket.OPEN) return false;
  ch.seal(type, payload).then((wire) => socket.send(wire)).catch((err) => page.errors.push(err.message));
  return true;
}

function end() {
  ended = true;
  clearTimeout(retryTimer);
  stopPinging();
  const socket = ws;
  const ch = channel;
  if (socket && ch && ch.ack && socket.readyState === WebSocket.OPEN) {
    ch.seal(FrameType.CLOSE, encodeClose(CloseCode.NORMAL, "the agent ended the view"))
      .then((wire) => socket.send(wire))
      .catch(() => {})
      .finally(() => socket.close(1000, "ended"));
  } else if (socket) {
    socket.close(1000, "ended");
  }
  setState("ended");
  showMessage("You ended the view. Reload the page to watch again.");
}

// -- device info and quality -------------------------------------------------------------------

const DEVICE_LABELS = {
  device_name: "Name",
  manufacturer: "Manufacturer",
  brand: "Brand",
  model: "Model",
  os_name: "OS",
  os_version: "OS version",
  processor: "Processor",
  memory_bytes: "Memory",
  serial_number: "Serial number",
};

function formatBytes(n) {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} bytes`;
}

function showDeviceInfo(info) {
  page.deviceInfo = info;
  const list = $("gp-device-info");
  list.replaceChildren();
  const add = (label, value) => {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.field = label;
    list.append(dt, dd);
  };
  for (const [field, label] of Object.entries(DEVICE_LABELS)) {
    const value = info[field];
    if (value === null || value === undefined || value === "") continue;
    add(label, field === "memory_bytes" ? formatBytes(value) : String(value));
  }
  for (const [key, value] of Object.entries(info.extra || {})) {
    add(key, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  if (!list.children.length) add("—", "The device sent no details.");
}

function updateQuality() {
  page.fps = painter.fps();
  const box = $("gp-quality");
  const latency = page.latencyMs;
  box.textContent = `${page.fps.toFixed(1)} fps · ${latency === null ? "–" : latency} ms`;
  let level = "none";
  if (page.state === "connected") {
    if (latency === null) level = "fair";
    else if (latency < 150) level = "good";
    else if (latency < 400) level = "fair";
    else level = "poor";
  }
  box.dataset.level = level;
}

setInterval(updateQuality, 500);

// -- input (remote control only) -------------------------------------------------------------

/** Canvas-relative CSS pixels → device display pixels. */
function devicePoint(event) {
  const rect = canvas.getBoundingClientRect();
  const width = canvas.width;
  const height = canvas.height;
  const x = Math.floor(((event.clientX - rect.left) * width) / Math.max(rect.width, 1));
  const y = Math.floor(((event.clientY - rect.top) * height) / Math.max(rect.height, 1));
  return { x: Math.min(Math.max(x, 0), Math.min(width - 1, 65535)), y: Math.min(Math.max(y, 0), Math.min(height - 1, 65535)) };
}

function sendInput(event) {
  let payload;
  try {
    payload = encodeInput(event);
  } catch (err) {
    page.errors.push(`input not sent: ${err.message}`);
    return;
  }
  if (send(FrameType.INPUT, payload)) {
    page.inputsSent += 1;
    page.lastInput = event;
  }
}

const touchIds = new Map(); // pointerId → 0..31

function touchId(pointerId, release = false) {
  if (!touchIds.has(pointerId)) {
    const used = new Set(touchIds.values());
    let id = 0;
    while (used.has(id) && id < 31) id += 1;
    touchIds.set(pointerId, id);
  }
  const id = touchIds.get(pointerId);
  if (release) touchIds.delete(pointerId);
  return id;
}

let pendingMove = null;

function flushMove() {
  const move = pendingMove;
  pendingMove = null;
  if (move) sendInput(move);
}

function setUpInput() {
  canvas.addEventListener("pointerdown", (event) => {
    if (!page.display) return;
    canvas.focus();
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    flushMove();
    const { x, y } = devicePoint(event);
    if (event.pointerType === "touch") sendInput({ type: "touch", x, y, id: touchId(event.pointerId), phase: "start" });
    else sendInput({ type: "pointer_down", x, y, button: Math.min(Math.max(event.button, 0), 4) });
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!page.display) return;
    event.preventDefault();
    flushMove();
    const { x, y } = devicePoint(event);
    if (event.pointerType === "touch") sendInput({ type: "touch", x, y, id: touchId(event.pointerId, true), phase: "end" });
    else sendInput({ type: "pointer_up", x, y, button: Math.min(Math.max(event.button, 0), 4) });
  });
  canvas.addEventListener("pointercancel", (event) => {
    if (event.pointerType === "touch" && touchIds.has(event.pointerId)) {
      const { x, y } = devicePoint(event);
      sendInput({ type: "touch", x, y, id: touchId(event.pointerId, true), phase: "cancel" });
    }
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!page.display) return;
    const { x, y } = devicePoint(event);
    // At most one move per animation frame: the latest position is what matters.
    const first = pendingMove === null;
    pendingMove = event.pointerType === "touch" && touchIds.has(event.pointerId)
      ? { type: "touch", x, y, id: touchId(event.pointerId), phase: "move" }
      : { type: "pointer_move", x, y };
    if (first) requestAnimationFrame(flushMove);
  });
  canvas.addEventListener("wheel", (event) => {
    if (!page.display) return;
    event.preventDefault();
    const scale = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? canvas.height : 1;
    const clamp = (v) => Math.max(-100000, Math.min(100000, Math.round(v * scale)));
    const { x, y } = devicePoint(event);
    sendInput({ type: "scroll", x, y, dx: clamp(event.deltaX), dy: clamp(event.deltaY) });
  }, { passive: false });
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  const key = (type) => (event) => {
    if (event.isComposing || !event.key || [...event.key].length > 32) return;
    event.preventDefault();
    sendInput({ type, key: event.key, code: (event.code || "").slice(0, 32), modifiers: modifiersOf(event) });
  };
  canvas.addEventListener("keydown", key("key_down"));
  canvas.addEventListener("keyup", key("key_up"));
  $("gp-clipboard-send").addEventListener("click", () => {
    const text = $("gp-clipboard").value;
    if (!send(FrameType.CLIPBOARD, encodeClipboard(text))) showMessage("Not connected: the clipboard was not sent.");
  });
}

// -- recordings and playback ----------------------------------------------------------------------

const playback = {
  canvas: $("gp-playback-canvas"),
  ctx: $("gp-playback-canvas").getContext("2d"),
  recording: null,
  frames: [], // indexes of image records
  position: 0, // seconds
  next: 0, // index into records of the next one to apply
  playing: false,
  startedAt: 0,
  startPosition: 0,
  drawing: Promise.resolve(),
  generation: 0,
};

function formatTime(seconds) {
  return seconds.toFixed(1);
}

async function loadRecordings() {
  const list = $("gp-recordings");
  const result = await api("GET", config.recordings_url);
  list.replaceChildren();
  if (!result.ok) {
    const item = document.createElement("li");
    item.textContent = `Could not list recordings: ${apiError(result)}`;
    list.append(item);
    return;
  }
  const items = result.data.items || [];
  page.recordings = items;
  if (!items.length) {
    const item = document.createElement("li");
    item.textContent = "No recordings for this session.";
    list.append(item);
    return;
  }
  for (const recording of items) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Play";
    button.dataset.fileId = recording.id;
    button.addEventListener("click", () => openRecording(recording));
    const label = document.createElement("span");
    label.textContent = ` ${recording.kind.replace("_", " ")} · ${new Date(recording.created_at).toLocaleString()} · ${formatBytes(recording.size)}`;
    item.append(button, label);
    list.append(item);
  }
}

async function openRecording(recording) {
  pause();
  page.playback = { state: "loading", records: 0, framesDrawn: 0, position: 0, duration: 0 };
  $("gp-playback").hidden = false;
  $("gp-playback-name").textContent = `${recording.kind.replace("_", " ")} · ${recording.id}`;
  const result = await fetch(`${config.recordings_url}/${encodeURIComponent(recording.id)}`, { credentials: "same-origin" });
  if (!result.ok) {
    page.playback.state = "error";
    reportError(`Could not load the recording (HTTP ${result.status}).`);
    return;
  }
  let parsed;
  try {
    parsed = decodeRecording(new Uint8Array(await result.arrayBuffer()));
  } catch (err) {
    page.playback.state = "error";
    reportError(`The recording cannot be played: ${err.message}`);
    return;
  }
  playback.recording = parsed;
  playback.images = parsed.records
    .map((record, index) => ({ record, index }))
    .filter(({ record }) => record.source === RECORDING_SOURCE.DEVICE
      && (record.type === FrameType.SCREEN || record.type === FrameType.CAMERA));
  page.playback = { state: "paused", records: parsed.records.length, framesDrawn: 0, position: 0,
    duration: parsed.duration, header: parsed.header };
  const seek = $("gp-seek");
  seek.max = String(parsed.duration);
  seek.value = "0";
  await seekTo(0);
}

function imageOf(record) {
  try {
    return decodeImage(record.payload);
  } catch {
    return null;
  }
}

/** Show the picture at `seconds`: the last full frame at or before it and the regions after it. */
function seekTo(seconds) {
  const rec = playback.recording;
  if (!rec) return Promise.resolve();
  const generation = ++playback.generation;
  const target = Math.max(0, Math.min(seconds, rec.duration));
  const before = playback.images.filter(({ record }) => record.t <= target);
  let start = 0;
  for (let i = before.length - 1; i >= 0; i -= 1) {
    const image = imageOf(before[i].record);
    if (image && image.full) {
      start = i;
      break;
    }
  }
  // Before the first picture: show it anyway, as a poster.
  const toDraw = before.length ? before.slice(start) : playback.images.slice(0, 1);
  playback.position = target;
  playback.next = before.length ? before[before.length - 1].index + 1 : firstIndexAfter(target);
  playback.drawing = playback.drawing.then(async () => {
    for (const { record } of toDraw) {
      if (generation !== playback.generation) return;
      await drawPlaybackFrame(record);
    }
  });
  showPosition();
  return playback.drawing;
}

function firstIndexAfter(seconds) {
  const records = playback.recording.records;
  let i = 0;
  while (i < records.length && records[i].t <= seconds) i += 1;
  return i;
}

async function drawPlaybackFrame(record) {
  const image = imageOf(record);
  if (!image) return;
  try {
    await drawImage(playback.canvas, playback.ctx, image);
    page.playback.framesDrawn += 1;
  } catch (err) {
    page.errors.push(`a recorded frame could not be drawn: ${err.message}`);
  }
}

function showPosition() {
  const rec = playback.recording;
  page.playback.position = playback.position;
  $("gp-time").textContent = `${formatTime(playback.position)} / ${formatTime(rec ? rec.duration : 0)} s`;
  if (document.activeElement !== $("gp-seek")) $("gp-seek").value = String(playback.position);
}

function play() {
  const rec = playback.recording;
  if (!rec) return;
  if (playback.position >= rec.duration) seekTo(0);
  playback.playing = true;
  playback.startedAt = performance.now();
  playback.startPosition = playback.position;
  page.playback.state = "playing";
  $("gp-play").textContent = "Pause";
  requestAnimationFrame(tick);
}

function pause() {
  playback.playing = false;
  if (page.playback.state === "playing") page.playback.state = "paused";
  $("gp-play").textContent = "Play";
}

function tick() {
  if (!playback.playing) return;
  const rec = playback.recording;
  const now = playback.startPosition + (performance.now() - playback.startedAt) / 1000;
  playback.position = Math.min(now, rec.duration);
  const generation = playback.generation;
  const due = [];
  while (playback.next < rec.records.length && rec.records[playback.next].t <= playback.position) {
    const record = rec.records[playback.next];
    if (record.source === RECORDING_SOURCE.DEVICE && (record.type === FrameType.SCREEN || record.type === FrameType.CAMERA)) {
      due.push(record);
    }
    playback.next += 1;
  }
  if (due.length) {
    playback.drawing = playback.drawing.then(async () => {
      for (const record of due) {
        if (generation !== playback.generation) return;
        await drawPlaybackFrame(record);
      }
    });
  }
  showPosition();
  if (playback.position >= rec.duration) {
    pause();
    page.playback.state = "ended";
    return;
  }
  requestAnimationFrame(tick);
}

function setUpPlayback() {
  $("gp-recordings-refresh").addEventListener("click", loadRecordings);
  $("gp-play").addEventListener("click", () => (playback.playing ? pause() : play()));
  $("gp-seek").addEventListener("input", (event) => {
    const wasPlaying = playback.playing;
    pause();
    seekTo(Number(event.target.value));
    if (wasPlaying) play();
  });
  $("gp-playback-close").addEventListener("click", () => {
    pause();
    playback.recording = null;
    page.playback.state = "none";
    $("gp-playback").hidden = true;
  });
  // For tests and tools: seek without a pointer.
  page.seek = (seconds) => seekTo(seconds);
  page.play = play;
  page.pause = pause;
}

// -- start ---------------------------------------------------------------------------------------

$("gp-end").addEventListener("click", end);
// The device answers a REFRESH with a full frame and its current diagnostics; the relay
// reports them to the app, which keeps them on the session's device.
// What the device last reported is stored on its record: show it before (or without)
// a live connection; the device's own DEVICE_INFO replaces it when it arrives.
async function loadStoredDeviceInfo() {
  if (!config.device_url) return;
  const result = await api("GET", config.device_url).catch(() => null);
  if (result?.ok && !page.deviceInfo) showDeviceInfo(result.data); // else the live connection may bring it
}
loadStoredDeviceInfo();

$("gp-device-refresh").addEventListener("click", () => {
  if (send(FrameType.REFRESH, new Uint8Array(0))) page.refreshesRequested = (page.refreshesRequested || 0) + 1;
});
$("gp-reconnect").addEventListener("click", () => {
  retries = 0;
  ended = false;
  showMessage("");
  connect();
});
if (interactive) setUpInput();
setUpPlayback();
loadRecordings();
if (globalThis.crypto && globalThis.crypto.subtle) {
  connect();
} else {
  setState("error");
  reportError("This browser cannot decrypt the session here: open the page over HTTPS.");
}
