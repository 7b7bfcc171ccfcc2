/**
 * The postMessage contract between a Guided Path step (the host page) and a Guided Path
 * App (external content in a sandboxed iframe). The wire format is specified in
 * docs/app-channel.md so that apps can be written in any framework; this module is the
 * reference implementation of both ends.
 *
 * Host:  connectApp({iframe, appOrigin, context, outputSchema?, onOutput, onError, onReject?, timeoutMs?})
 * App:   connectHost({hostOrigin}) -> Promise<{context, sendOutput(obj), sendError(msg), ...}>
 *
 * Security model, in short: the host trusts a message only if it comes from the window
 * of the iframe it embedded (`event.source === iframe.contentWindow`) AND from the app's
 * origin — which is the literal string "null" when the iframe is sandboxed without
 * allow-same-origin (an opaque origin), so for such iframes the source check is what
 * identifies the app. The app trusts a message only from `window.parent` with an
 * exactly expected origin. Everything else is ignored silently and counted in `stats`.
 */
import { checkJSONValue } from "./json-value.js";
import { compileSchema } from "./json-schema-lite.js";

export const PROTOCOL_VERSION = 1;
/** Largest accepted output, as UTF-8 JSON text. */
export const MAX_OUTPUT_BYTES = 256 * 1024;
/** Largest context the host will send. */
export const MAX_CONTEXT_BYTES = 256 * 1024;
/** Longest error message passed on from an app (longer ones are cut). */
export const MAX_ERROR_MESSAGE_LENGTH = 1000;
/** Deepest nesting accepted in context and output. */
export const MAX_JSON_DEPTH = 64;

export const MESSAGE_TYPES = Object.freeze({
  READY: "guidepath:ready",
  CONTEXT: "guidepath:context",
  OUTPUT: "guidepath:output",
  RESULT: "guidepath:result",
  ERROR: "guidepath:error",
});

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_READY_INTERVAL_MS = 200;
const MAX_CHANNEL_LENGTH = 128;

/**
 * Errors of this module. `code`:
 *   invalid_argument – a bad option (thrown synchronously)
 *   timeout          – no handshake in time (host: no ready; app: no context)
 *   app_error        – the app sent guidepath:error (host side; see `appMessage`)
 *   not_framed       – connectHost outside an iframe
 *   not_json, too_large, too_deep, schema – an output was refused (app side: the host's
 *                      verdict or the local pre-check; see `errors` for schema details)
 *   no_result        – the host did not answer an output in time (app side)
 *   closed           – the connection is finished
 */
export class AppChannelError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = "AppChannelError";
    this.code = code;
    Object.assign(this, details);
  }
}

function invalid(message) {
  return new AppChannelError("invalid_argument", message);
}

/** "https://app.example.com" style origins only: scheme://host[:port], no path, not "null", not "*". */
function assertOrigin(origin, name) {
  if (typeof origin !== "string" || origin === "null" || origin === "*") {
    throw invalid(`${name} must be an origin like "https://app.example.com", got ${JSON.stringify(origin)}`);
  }
  let parsed;
  try {
    parsed = new URL(origin);
  } catch {
    throw invalid(`${name} is not a valid origin: ${JSON.stringify(origin)}`);
  }
  if (parsed.origin !== origin) {
    throw invalid(`${name} must be exactly an origin (scheme://host[:port], no path or trailing slash): got ${JSON.stringify(origin)}, did you mean ${JSON.stringify(parsed.origin)}?`);
  }
  return origin;
}

function isPlainObject(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || (Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(value) === "[object Object]");
}

function randomChannelId() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function newStats() {
  return {
    received: 0, // message events seen while listening
    ignored: 0, // total ignored
    ignoredBy: { source: 0, origin: 0, malformed: 0, version: 0, channel: 0, state: 0 },
    rejected: 0, // outputs refused (host) / refused by the host (app)
    accepted: 0, // outputs accepted
  };
}

function sandboxTokens(iframe) {
  const attr = iframe.getAttribute("sandbox");
  if (attr === null) return null;
  return new Set(attr.toLowerCase().split(/\s+/).filter(Boolean));
}

function checkPositive(value, name) {
  if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw invalid(`${name} must be a positive number of milliseconds`);
  }
}

/** A message id from the app: an integer or a short string; absent means null. */
function validId(id) {
  return id === undefined || id === null || Number.isSafeInteger(id) || (typeof id === "string" && id.length <= 64);
}

/**
 * Host side: connect to the Guided Path App in `iframe`.
 *
 * Call it BEFORE the iframe starts loading (set iframe.src afterwards) so that the app's
 * first ready message cannot be missed (apps repeat ready anyway, see the contract).
 *
 * @param {object} options
 * @param {HTMLIFrameElement} options.iframe  must carry a sandbox attribute
 * @param {string} options.appOrigin  the registered origin of the app URL, e.g. "https://app.example.com"
 * @param {object} options.context  plain JSON object sent to the app (<= MAX_CONTEXT_BYTES)
 * @param {object} [options.outputSchema]  JSON Schema (supported subset, see json-schema-lite.js) the output must match
 * @param {(output: object, info: {channel: string}) => void} options.onOutput  called once, with the accepted output
 * @param {(error: AppChannelError) => void} options.onError  called once on timeout or app error; the connection is then closed
 * @param {(error: AppChannelError) => void} [options.onReject]  called for each refused output (the app is told and may retry)
 * @param {number} [options.timeoutMs=10000]  how long to wait for the app's first ready
 * @returns {{channel: string, stats: object, readonly state: "waiting"|"connected"|"done", close(): void}}
 */
export function connectApp(options = {}) {
  const {
    iframe,
    appOrigin,
    context,
    outputSchema,
    onOutput,
    onError,
    onReject,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    window: win = globalThis.window,
  } = options;

  if (!win || typeof win.addEventListener !== "function") throw invalid("connectApp needs a window (run it in a browser)");
  if (!iframe || typeof iframe.getAttribute !== "function") throw invalid("iframe must be an <iframe> element");
  assertOrigin(appOrigin, "appOrigin");
  if (typeof onOutput !== "function") throw invalid("onOutput must be a function");
  if (typeof onError !== "function") throw invalid("onError must be a function");
  if (onReject !== undefined && typeof onReject !== "function") throw invalid("onReject must be a function");
  checkPositive(timeoutMs, "timeoutMs");

  const ctxCheck = checkJSONValue(context, { maxBytes: MAX_CONTEXT_BYTES, maxDepth: MAX_JSON_DEPTH, requireObject: true });
  if (!ctxCheck.ok) throw invalid(`context ${ctxCheck.message}`);

  let validateOutput = null;
  if (outputSchema !== undefined) {
    try {
      validateOutput = compileSchema(outputSchema);
    } catch (err) {
      throw invalid(`outputSchema: ${err.message}`);
    }
  }

  const tokens = sandboxTokens(iframe);
  if (tokens === null) {
    throw invalid('the iframe must be sandboxed (e.g. sandbox="allow-scripts"); Guided Path Apps never run unsandboxed');
  }
  // Without allow-same-origin the app's document has an opaque origin: its messages arrive
  // with event.origin === "null" and messages to it must use targetOrigin "*".
  const opaque = !tokens.has("allow-same-origin");
  const hostOrigin = win.location?.origin;
  if (!opaque && tokens.has("allow-scripts") && appOrigin === hostOrigin) {
    throw invalid("allow-scripts with allow-same-origin for a same-origin app lets it remove its own sandbox; serve apps from another origin");
  }
  const acceptedOrigins = opaque ? new Set([appOrigin, "null"]) : new Set([appOrigin]);
  const targetOrigin = opaque ? "*" : appOrigin;

  const channel = randomChannelId();
  const contextMessage = { type: MESSAGE_TYPES.CONTEXT, version: PROTOCOL_VERSION, channel, context };
  const stats = newStats();
  let state = "waiting";
  let timer = null;

  const ignore = (reason) => {
    stats.ignored += 1;
    stats.ignoredBy[reason] += 1;
  };

  const finish = () => {
    if (state === "done") return;
    state = "done";
    if (timer !== null) clearTimeout(timer);
    timer = null;
    win.removeEventListener("message", listener);
  };

  const reply = (target, message) => {
    try {
      target.postMessage(message, targetOrigin);
    } catch {
      // the frame went away; nothing to tell
    }
  };

  function refuse(target, id, code, message, errors) {
    stats.rejected += 1;
    const verdict = { type: MESSAGE_TYPES.RESULT, version: PROTOCOL_VERSION, channel, id: id ?? null, accepted: false, code, message };
    if (errors) verdict.errors = errors;
    reply(target, verdict);
    if (onReject) onReject(new AppChannelError(code, `output refused: ${message}`, errors ? { errors } : {}));
  }

  function listener(event) {
    if (state === "done") return;
    stats.received += 1;
    const frameWindow = iframe.contentWindow;
    if (!frameWindow || event.source !== frameWindow) return ignore("source");
    if (!acceptedOrigins.has(event.origin)) return ignore("origin");
    const msg = event.data;
    if (!isPlainObject(msg) || typeof msg.type !== "string") return ignore("malformed");
    if (msg.version !== undefined && msg.version !== PROTOCOL_VERSION) return ignore("version");

    switch (msg.type) {
      case MESSAGE_TYPES.READY:
        // Every ready gets the context (the app repeats ready until it has it, and a
        // reloaded app document needs it again). The reply goes to event.source, which
        // we just checked is our iframe's window.
        if (state === "waiting") {
          state = "connected";
          clearTimeout(timer);
          timer = null;
        }
        reply(event.source, contextMessage);
        return;

      case MESSAGE_TYPES.OUTPUT: {
        if (msg.channel !== channel) return ignore("channel");
        if (state !== "connected") return ignore("state");
        if (!validId(msg.id)) return ignore("malformed");
        const id = msg.id ?? null;
        const check = checkJSONValue(msg.output, { maxBytes: MAX_OUTPUT_BYTES, maxDepth: MAX_JSON_DEPTH, requireObject: true });
        if (!check.ok) return refuse(event.source, id, check.code, `output ${check.message}`);
        if (validateOutput) {
          const errors = validateOutput(msg.output);
          if (errors.length) {
            return refuse(event.source, id, "schema", `output does not match the app's output schema: ${errors.map((e) => `${e.pointer || "/"} ${e.message}`).join("; ")}`, errors);
          }
        }
        stats.accepted += 1;
        reply(event.source, { type: MESSAGE_TYPES.RESULT, version: PROTOCOL_VERSION, channel, id, accepted: true });
        finish();
        onOutput(msg.output, { channel });
        return;
      }

      case MESSAGE_TYPES.ERROR: {
        if (msg.channel !== channel) return ignore("channel");
        if (state !== "connected") return ignore("state");
        if (typeof msg.message !== "string") return ignore("malformed");
        const appMessage = msg.message.slice(0, MAX_ERROR_MESSAGE_LENGTH);
        finish();
        onError(new AppChannelError("app_error", `the app reported an error: ${appMessage}`, { appMessage }));
        return;
      }

      default:
        return ignore("malformed"); // includes host-to-app types and other libraries' messages
    }
  }

  win.addEventListener("message", listener);
  timer = setTimeout(() => {
    if (state !== "waiting") return;
    finish();
    onError(new AppChannelError("timeout", `the app did not send ${MESSAGE_TYPES.READY} within ${timeoutMs} ms`));
  }, timeoutMs);

  return {
    channel,
    stats,
    get state() {
      return state;
    },
    /** Stop listening (e.g. the step was skipped). No callback is called afterwards. */
    close: finish,
  };
}

/**
 * App side: wait for the context from the host page.
 *
 * @param {object} options
 * @param {string | string[]} options.hostOrigin  the exact origin(s) of host pages allowed to embed this app
 * @param {number} [options.timeoutMs=10000]  how long to wait for the context
 * @param {number} [options.readyIntervalMs=200]  how often ready is repeated until the context arrives
 * @param {number} [options.resultTimeoutMs=10000]  how long sendOutput waits for the host's verdict
 * @returns {Promise<{context: object, channel: string, hostOrigin: string, stats: object,
 *   sendOutput(output: object): Promise<{accepted: true}>, sendError(message: string): void, close(): void}>}
 */
export function connectHost(options = {}) {
  const {
    hostOrigin,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    readyIntervalMs = DEFAULT_READY_INTERVAL_MS,
    resultTimeoutMs = DEFAULT_TIMEOUT_MS,
    window: win = globalThis.window,
  } = options;

  try {
    if (!win || typeof win.addEventListener !== "function") throw invalid("connectHost needs a window (run it in a browser)");
    const list = Array.isArray(hostOrigin) ? hostOrigin : [hostOrigin];
    if (!list.length) throw invalid("hostOrigin must name at least one origin");
    list.forEach((o) => assertOrigin(o, "hostOrigin"));
    checkPositive(timeoutMs, "timeoutMs");
    checkPositive(readyIntervalMs, "readyIntervalMs");
    checkPositive(resultTimeoutMs, "resultTimeoutMs");
  } catch (err) {
    return Promise.reject(err);
  }
  const allowed = new Set(Array.isArray(hostOrigin) ? hostOrigin : [hostOrigin]);
  const parent = win.parent;
  if (!parent || parent === win) {
    return Promise.reject(new AppChannelError("not_framed", "this page is not inside an iframe; a Guided Path App runs embedded in a Guided Path step"));
  }

  return new Promise((resolve, reject) => {
    const stats = newStats();
    let connected = null; // {channel, origin}
    let closed = false;
    let nextId = 1;
    const pending = new Map(); // id -> {resolve, reject, timer}
    let readyTimer = null;
    let timeoutTimer = null;

    const ignore = (reason) => {
      stats.ignored += 1;
      stats.ignoredBy[reason] += 1;
    };

    const post = (message, origin) => {
      try {
        parent.postMessage(message, origin);
      } catch {
        // parent gone
      }
    };

    const stopHandshake = () => {
      clearInterval(readyTimer);
      clearTimeout(timeoutTimer);
      readyTimer = timeoutTimer = null;
    };

    const close = () => {
      if (closed) return;
      closed = true;
      stopHandshake();
      win.removeEventListener("message", listener);
      for (const [, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new AppChannelError("closed", "the connection was closed"));
      }
      pending.clear();
    };

    function listener(event) {
      stats.received += 1;
      if (event.source !== parent) return ignore("source");
      if (connected ? event.origin !== connected.origin : !allowed.has(event.origin)) return ignore("origin");
      const msg = event.data;
      if (!isPlainObject(msg) || typeof msg.type !== "string") return ignore("malformed");
      if (msg.version !== undefined && msg.version !== PROTOCOL_VERSION) return ignore("version");

      if (msg.type === MESSAGE_TYPES.CONTEXT) {
        if (connected) return ignore(msg.channel === connected.channel ? "state" : "channel"); // repeats answer repeated readies
        if (typeof msg.channel !== "string" || !msg.channel || msg.channel.length > MAX_CHANNEL_LENGTH) return ignore("malformed");
        const check = checkJSONValue(msg.context, { maxBytes: MAX_CONTEXT_BYTES, maxDepth: MAX_JSON_DEPTH, requireObject: true });
        if (!check.ok) return ignore("malformed");
        connected = { channel: msg.channel, origin: event.origin };
        stopHandshake();
        resolve(connection(msg.context));
        return;
      }

      if (msg.type === MESSAGE_TYPES.RESULT) {
        if (!connected) return ignore("state");
        if (msg.channel !== connected.channel) return ignore("channel");
        if (typeof msg.accepted !== "boolean") return ignore("malformed");
        const p = pending.get(msg.id);
        if (!p) return ignore("state");
        pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.accepted) {
          stats.accepted += 1;
          p.resolve({ accepted: true });
          close(); // an accepted output ends the conversation
        } else {
          stats.rejected += 1;
          const code = typeof msg.code === "string" ? msg.code : "rejected";
          const message = typeof msg.message === "string" ? msg.message : "the host refused the output";
          p.reject(new AppChannelError(code, message, Array.isArray(msg.errors) ? { errors: msg.errors } : {}));
        }
        return;
      }
      ignore("malformed");
    }

    function connection(context) {
      const { channel, origin } = connected;
      return {
        context,
        channel,
        hostOrigin: origin,
        stats,
        close,
        /**
         * Send the app's output (a plain JSON object <= MAX_OUTPUT_BYTES). Resolves when the host
         * accepts it (the conversation then ends); rejects with the host's reason otherwise, and
         * the app may send a corrected output.
         */
        sendOutput(output) {
          if (closed) return Promise.reject(new AppChannelError("closed", "the connection is finished"));
          const check = checkJSONValue(output, { maxBytes: MAX_OUTPUT_BYTES, maxDepth: MAX_JSON_DEPTH, requireObject: true });
          if (!check.ok) return Promise.reject(new AppChannelError(check.code, `output ${check.message}`));
          const id = nextId++;
          return new Promise((res, rej) => {
            const timer = setTimeout(() => {
              pending.delete(id);
              rej(new AppChannelError("no_result", `the host did not answer output ${id} within ${resultTimeoutMs} ms`));
            }, resultTimeoutMs);
            pending.set(id, { resolve: res, reject: rej, timer });
            post({ type: MESSAGE_TYPES.OUTPUT, version: PROTOCOL_VERSION, channel, id, output }, origin);
          });
        },
        /** Tell the host the app cannot complete (shown to the user / agent). Ends the conversation. */
        sendError(message) {
          if (closed) return;
          const text = String(message ?? "").slice(0, MAX_ERROR_MESSAGE_LENGTH);
          post({ type: MESSAGE_TYPES.ERROR, version: PROTOCOL_VERSION, channel, message: text }, origin);
          close();
        },
      };
    }

    win.addEventListener("message", listener);
    const sendReady = () => {
      // postMessage drops the message unless the parent's origin equals targetOrigin, so
      // announcing to each allowed origin reaches only the one that really embeds us.
      for (const origin of allowed) post({ type: MESSAGE_TYPES.READY, version: PROTOCOL_VERSION }, origin);
    };
    sendReady();
    readyTimer = setInterval(sendReady, readyIntervalMs);
    timeoutTimer = setTimeout(() => {
      if (connected) return;
      close();
      reject(new AppChannelError("timeout", `no ${MESSAGE_TYPES.CONTEXT} from ${[...allowed].join(" or ")} within ${timeoutMs} ms`, { stats }));
    }, timeoutMs);
  });
}
