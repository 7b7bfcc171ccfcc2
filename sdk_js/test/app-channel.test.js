// Unit tests of the app channel against simulated windows: postMessage semantics as in
// browsers (structured clone, asynchronous delivery, targetOrigin filtering, event.source
// and event.origin set by the sender). The real-browser test is app-channel.browser.test.js.
import { test, describe } from "node:test";
import vm from "node:vm";
import assert from "node:assert/strict";

import {
  connectApp,
  connectHost,
  AppChannelError,
  MAX_OUTPUT_BYTES,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
} from "../src/app-channel.js";
import { checkJSONValue, utf8Length } from "../src/json-value.js";
import { compileSchema, SchemaError } from "../src/json-schema-lite.js";

const HOST = "https://acme.guidepath.example";
const APP = "https://apps.vendor.example";

class FakeWindow {
  constructor(origin) {
    this.location = { origin };
    this.listeners = new Set();
    this.parent = this;
    this.received = []; // every message delivered to this window
  }
  addEventListener(type, fn) {
    if (type === "message") this.listeners.add(fn);
  }
  removeEventListener(type, fn) {
    if (type === "message") this.listeners.delete(fn);
  }
  /** Deliver like a browser does when `sender` calls target.postMessage(data, targetOrigin). */
  deliver(data, { origin, source }) {
    const event = { data: structuredClone(data), origin, source };
    this.received.push(event);
    for (const fn of [...this.listeners]) fn(event);
  }
}

/**
 * What a window holds to post to another one: `from` posts to `to`; the receiver sees
 * event.source === sourceSeenByReceiver() (its own handle for the sender, as in browsers).
 */
function port(from, to, sourceSeenByReceiver) {
  return {
    postMessage(data, targetOrigin) {
      const cloned = structuredClone(data); // throws DataCloneError synchronously, as browsers do
      if (targetOrigin !== "*" && targetOrigin !== to.location.origin) return; // dropped by the browser
      setTimeout(() => to.deliver(cloned, { origin: from.location.origin, source: sourceSeenByReceiver() }), 0);
    },
  };
}

/** A host page embedding an app iframe. `sandbox` null means no attribute. */
function setup({ sandbox = "allow-scripts", appOrigin = APP, hostOrigin = HOST } = {}) {
  const host = new FakeWindow(hostOrigin);
  const opaque = sandbox !== null && !sandbox.split(/\s+/).includes("allow-same-origin");
  const app = new FakeWindow(opaque ? "null" : appOrigin);
  const contentWindow = {}; // iframe.contentWindow in the host
  const parentHandle = {}; // window.parent in the app
  Object.assign(contentWindow, port(host, app, () => parentHandle));
  Object.assign(parentHandle, port(app, host, () => contentWindow));
  app.parent = parentHandle;
  const iframe = {
    contentWindow,
    attrs: sandbox === null ? {} : { sandbox },
    getAttribute(name) {
      return name in this.attrs ? this.attrs[name] : null;
    },
  };
  return { host, app, iframe };
}

/** Another window somewhere (a popup, another frame) that can post to the host. */
function stranger(host, origin) {
  const w = new FakeWindow(origin);
  const handleSeenByHost = {};
  const toHost = port(w, host, () => handleSeenByHost);
  return { win: w, post: (data) => toHost.postMessage(data, "*") };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
async function until(predicate, ms = 2000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await tick(1);
  }
}

function collect() {
  const calls = { outputs: [], errors: [], rejects: [] };
  return {
    calls,
    onOutput: (o, info) => calls.outputs.push({ o, info }),
    onError: (e) => calls.errors.push(e),
    onReject: (e) => calls.rejects.push(e),
  };
}

describe("handshake and output (opaque sandbox: origin \"null\")", () => {
  test("ready -> context -> output -> result", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    const conn = connectApp({ iframe, appOrigin: APP, context: { locale: "en", vars: { os: "ios" } }, window: host, ...cb });
    assert.match(conn.channel, /^[0-9a-f]{32}$/);
    assert.equal(conn.state, "waiting");

    const hostConn = await connectHost({ hostOrigin: HOST, window: app });
    assert.deepStrictEqual(hostConn.context, { locale: "en", vars: { os: "ios" } });
    assert.equal(hostConn.channel, conn.channel);
    assert.equal(hostConn.hostOrigin, HOST);
    assert.equal(conn.state, "connected");

    // wire format of the context message
    const ctx = app.received.find((e) => e.data.type === MESSAGE_TYPES.CONTEXT);
    assert.deepStrictEqual(ctx.data, { type: "guidepath:context", version: 1, channel: conn.channel, context: { locale: "en", vars: { os: "ios" } } });
    assert.equal(ctx.origin, HOST);

    const result = await hostConn.sendOutput({ battery_ok: true, percent: 87 });
    assert.deepStrictEqual(result, { accepted: true });
    assert.deepStrictEqual(cb.calls.outputs, [{ o: { battery_ok: true, percent: 87 }, info: { channel: conn.channel } }]);
    assert.equal(cb.calls.errors.length, 0);
    assert.equal(conn.state, "done");
    assert.equal(conn.stats.accepted, 1);
    assert.equal(host.listeners.size, 0, "host stops listening after the output");
    assert.equal(app.listeners.size, 0, "app stops listening after acceptance");

    // wire format of output and result
    const out = host.received.find((e) => e.data.type === MESSAGE_TYPES.OUTPUT);
    assert.deepStrictEqual(out.data, { type: "guidepath:output", version: 1, channel: conn.channel, id: 1, output: { battery_ok: true, percent: 87 } });
    assert.equal(out.origin, "null");
    const res = app.received.find((e) => e.data.type === MESSAGE_TYPES.RESULT);
    assert.deepStrictEqual(res.data, { type: "guidepath:result", version: 1, channel: conn.channel, id: 1, accepted: true });
  });

  test("a minimal app that speaks the wire format by hand ({type: ready} without version)", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    const conn = connectApp({ iframe, appOrigin: APP, context: { a: 1 }, window: host, ...cb });
    app.addEventListener("message", (e) => {
      if (e.source === app.parent && e.origin === HOST && e.data.type === "guidepath:context") {
        app.parent.postMessage({ type: "guidepath:output", channel: e.data.channel, output: { got: e.data.context.a } }, HOST);
      }
    });
    app.parent.postMessage({ type: "guidepath:ready" }, HOST);
    await until(() => cb.calls.outputs.length > 0);
    assert.deepStrictEqual(cb.calls.outputs.map((c) => c.o), [{ got: 1 }]);
    assert.equal(conn.state, "done");
  });

  test("ready repeated: every ready gets the context; the app takes the first", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    connectApp({ iframe, appOrigin: APP, context: { a: 1 }, window: host, ...cb });
    app.parent.postMessage({ type: "guidepath:ready", version: 1 }, HOST);
    app.parent.postMessage({ type: "guidepath:ready", version: 1 }, HOST);
    const hc = await connectHost({ hostOrigin: HOST, window: app });
    await until(() => app.received.filter((e) => e.data.type === MESSAGE_TYPES.CONTEXT).length >= 3);
    assert.equal(app.received.filter((e) => e.data.type === MESSAGE_TYPES.CONTEXT).length, 3);
    assert.ok(hc.stats.ignoredBy.state >= 1, "duplicate contexts are ignored and counted");
  });

  test("app loaded before the host listened: its repeated ready still connects", async () => {
    const { host, app, iframe } = setup();
    const hostPromise = connectHost({ hostOrigin: HOST, window: app, readyIntervalMs: 10 });
    await tick(30); // several readies are lost
    const cb = collect();
    connectApp({ iframe, appOrigin: APP, context: { late: true }, window: host, ...cb });
    const hc = await hostPromise;
    assert.deepStrictEqual(hc.context, { late: true });
  });
});

describe("host ignores everything else, countably", () => {
  async function connected(opts) {
    const s = setup(opts);
    const cb = collect();
    const conn = connectApp({ iframe: s.iframe, appOrigin: opts?.appOrigin ?? APP, context: { a: 1 }, window: s.host, ...cb });
    const hc = await connectHost({ hostOrigin: HOST, window: s.app, resultTimeoutMs: 50 });
    return { ...s, cb, conn, hc };
  }

  test("right channel but wrong source (another \"null\"-origin window) is ignored", async () => {
    const { host, cb, conn, hc } = await connected();
    const evil = stranger(host, "null"); // e.g. another sandboxed frame of the same app
    evil.post({ type: "guidepath:output", version: 1, channel: conn.channel, output: { evil: true } });
    evil.post({ type: "guidepath:error", version: 1, channel: conn.channel, message: "boom" });
    evil.post({ type: "guidepath:ready", version: 1 });
    await until(() => conn.stats.ignoredBy.source === 3);
    assert.equal(cb.calls.outputs.length, 0);
    assert.equal(cb.calls.errors.length, 0);
    assert.equal(conn.stats.ignoredBy.source, 3);
    await hc.sendOutput({ real: true });
    assert.deepStrictEqual(cb.calls.outputs.map((c) => c.o), [{ real: true }]);
  });

  test("right source but wrong origin is ignored (non-opaque sandbox needs the exact app origin)", async () => {
    const s = setup({ sandbox: "allow-scripts allow-same-origin" });
    const cb = collect();
    const conn = connectApp({ iframe: s.iframe, appOrigin: "https://other.vendor.example", context: {}, window: s.host, ...cb });
    s.app.parent.postMessage({ type: "guidepath:ready" }, HOST); // arrives with origin APP
    await until(() => conn.stats.ignoredBy.origin === 1);
    assert.equal(conn.stats.ignoredBy.origin, 1);
    assert.equal(conn.state, "waiting");
    conn.close();
  });

  test("with allow-same-origin, \"null\" is not accepted and the exact origin is", async () => {
    const s = setup({ sandbox: "allow-scripts allow-same-origin" });
    const cb = collect();
    const conn = connectApp({ iframe: s.iframe, appOrigin: APP, context: { x: 1 }, window: s.host, ...cb });
    // a message with the right source but origin "null" cannot happen here, simulate it:
    s.host.deliver({ type: "guidepath:ready" }, { origin: "null", source: s.iframe.contentWindow });
    assert.equal(conn.stats.ignoredBy.origin, 1);
    const hc = await connectHost({ hostOrigin: HOST, window: s.app });
    assert.deepStrictEqual(hc.context, { x: 1 });
    // messages to a non-opaque app use the exact targetOrigin
    assert.equal(s.app.received.find((e) => e.data.type === MESSAGE_TYPES.CONTEXT).origin, HOST);
    conn.close();
  });

  test("wrong channel, bad version, malformed, unknown type, output before context", async () => {
    const s = setup();
    const cb = collect();
    const conn = connectApp({ iframe: s.iframe, appOrigin: APP, context: {}, window: s.host, ...cb });
    const fromApp = (data) => s.host.deliver(data, { origin: "null", source: s.iframe.contentWindow });
    fromApp({ type: "guidepath:output", channel: conn.channel, output: { early: 1 } }); // before ready
    assert.equal(conn.stats.ignoredBy.state, 1);
    fromApp({ type: "guidepath:ready", version: 2 });
    assert.equal(conn.stats.ignoredBy.version, 1);
    assert.equal(conn.state, "waiting");
    fromApp("guidepath:ready");
    fromApp(null);
    fromApp(["guidepath:ready"]);
    fromApp({ type: "guidepath:frobnicate" });
    fromApp({ type: "guidepath:context", channel: conn.channel, context: {} });
    fromApp({ hello: "another library" });
    assert.equal(conn.stats.ignoredBy.malformed, 6);
    fromApp({ type: "guidepath:ready" });
    assert.equal(conn.state, "connected");
    fromApp({ type: "guidepath:output", channel: "0".repeat(32), output: { a: 1 } });
    fromApp({ type: "guidepath:output", output: { a: 1 } });
    fromApp({ type: "guidepath:error", channel: "nope", message: "x" });
    assert.equal(conn.stats.ignoredBy.channel, 3);
    fromApp({ type: "guidepath:output", channel: conn.channel, id: { bad: 1 }, output: { a: 1 } });
    fromApp({ type: "guidepath:error", channel: conn.channel, message: 42 });
    assert.equal(conn.stats.ignoredBy.malformed, 8);
    assert.equal(cb.calls.outputs.length + cb.calls.errors.length, 0);
    assert.equal(conn.stats.ignored, 1 + 1 + 8 + 3);
    assert.equal(conn.stats.received, conn.stats.ignored + 1);
    conn.close();
    assert.equal(s.host.listeners.size, 0);
  });

  test("after close nothing is delivered", async () => {
    const { cb, conn, hc } = await connected();
    const seen = conn.stats.received;
    conn.close();
    await assert.rejects(hc.sendOutput({ a: 1 }), (e) => e.code === "no_result");
    assert.equal(cb.calls.outputs.length, 0);
    assert.equal(conn.stats.received, seen, "a closed host does not even look at messages");
  });
});

describe("outputs are refused when too large, not JSON, or not matching the schema", () => {
  test("over the size cap: the host refuses, tells the app, and accepts a later good output", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    const conn = connectApp({ iframe, appOrigin: APP, context: {}, window: host, ...cb });
    const hc = await connectHost({ hostOrigin: HOST, window: app });

    const big = { blob: "x".repeat(MAX_OUTPUT_BYTES) };
    // the app library refuses locally, without sending
    await assert.rejects(hc.sendOutput(big), (e) => e instanceof AppChannelError && e.code === "too_large");
    assert.equal(host.received.filter((e) => e.data.type === MESSAGE_TYPES.OUTPUT).length, 0);

    // an app that bypasses its library is refused by the host
    app.parent.postMessage({ type: "guidepath:output", version: 1, channel: conn.channel, id: 7, output: big }, HOST);
    await until(() => app.received.some((e) => e.data.type === MESSAGE_TYPES.RESULT));
    assert.equal(cb.calls.outputs.length, 0);
    assert.equal(conn.stats.rejected, 1);
    assert.equal(cb.calls.rejects[0].code, "too_large");
    const verdict = app.received.find((e) => e.data.type === MESSAGE_TYPES.RESULT);
    assert.equal(verdict.data.accepted, false);
    assert.equal(verdict.data.code, "too_large");
    assert.equal(verdict.data.id, 7);

    // exactly at the cap is fine: {"blob":"..."} is 11 bytes of overhead
    const atCap = { blob: "é".repeat((MAX_OUTPUT_BYTES - 12) / 2) + "a" };
    assert.equal(utf8Length(JSON.stringify(atCap)), MAX_OUTPUT_BYTES);
    await hc.sendOutput(atCap);
    assert.equal(cb.calls.outputs.length, 1);
  });

  test("multi-byte characters count as UTF-8 bytes", async () => {
    const justOver = { s: "€".repeat(Math.ceil(MAX_OUTPUT_BYTES / 3)) }; // 3 bytes each
    assert.equal(checkJSONValue(justOver, { maxBytes: MAX_OUTPUT_BYTES }).code, "too_large");
  });

  test("non-object and non-JSON outputs are refused", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    const conn = connectApp({ iframe, appOrigin: APP, context: {}, window: host, ...cb });
    const hc = await connectHost({ hostOrigin: HOST, window: app });
    for (const bad of [[1, 2], "text", 5, null, { d: new Date() }, { m: new Map() }, { n: NaN }, { f: () => 1 }]) {
      await assert.rejects(hc.sendOutput(bad), (e) => e.code === "not_json", String(bad));
    }
    // structured-clone-able but not JSON, sent by hand: the host refuses it
    const fromApp = (output) => app.parent.postMessage({ type: "guidepath:output", channel: conn.channel, output }, HOST);
    fromApp({ when: new Date() });
    fromApp({ big: 10n });
    fromApp([1]);
    fromApp(JSON.parse('{"__proto__": {"polluted": true}}'));
    await until(() => conn.stats.rejected === 4);
    assert.equal(conn.stats.rejected, 4);
    assert.deepStrictEqual(cb.calls.rejects.map((e) => e.code), ["not_json", "not_json", "not_json", "not_json"]);
    assert.equal(cb.calls.outputs.length, 0);
  });

  test("output schema: refused with JSON Pointers, then accepted", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    const outputSchema = {
      type: "object",
      properties: { percent: { type: "integer", minimum: 0, maximum: 100 }, ok: { type: "boolean" } },
      required: ["percent", "ok"],
      additionalProperties: false,
    };
    connectApp({ iframe, appOrigin: APP, context: {}, outputSchema, window: host, ...cb });
    const hc = await connectHost({ hostOrigin: HOST, window: app });
    await assert.rejects(hc.sendOutput({ percent: 101.5, extra: 1 }), (e) => {
      assert.equal(e.code, "schema");
      assert.deepStrictEqual(e.errors.map((x) => x.pointer).sort(), ["/extra", "/ok", "/percent", "/percent"]);
      return true;
    });
    assert.equal(cb.calls.rejects.length, 1);
    await hc.sendOutput({ percent: 100, ok: true });
    assert.deepStrictEqual(cb.calls.outputs.map((c) => c.o), [{ percent: 100, ok: true }]);
  });

  test("an unsupported schema keyword is refused at connect time, not silently ignored", () => {
    const { host, iframe } = setup();
    assert.throws(
      () => connectApp({ iframe, appOrigin: APP, context: {}, outputSchema: { anyOf: [{ type: "string" }] }, window: host, ...collect() }),
      (e) => e.code === "invalid_argument" && /anyOf/.test(e.message),
    );
    assert.equal(host.listeners.size, 0);
  });
});

describe("errors and timeouts", () => {
  test("guidepath:error ends the connection with app_error", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    const conn = connectApp({ iframe, appOrigin: APP, context: {}, window: host, ...cb });
    const hc = await connectHost({ hostOrigin: HOST, window: app });
    hc.sendError("camera permission denied" + "!".repeat(5000));
    await until(() => cb.calls.errors.length === 1);
    assert.equal(cb.calls.errors.length, 1);
    assert.equal(cb.calls.errors[0].code, "app_error");
    assert.equal(cb.calls.errors[0].appMessage.length, 1000);
    assert.match(cb.calls.errors[0].appMessage, /^camera permission denied/);
    assert.equal(conn.state, "done");
    await assert.rejects(hc.sendOutput({ a: 1 }), (e) => e.code === "closed");
  });

  test("host: no ready within timeoutMs -> onError(timeout), once", async () => {
    const { host, iframe } = setup();
    const cb = collect();
    const conn = connectApp({ iframe, appOrigin: APP, context: {}, window: host, timeoutMs: 20, ...cb });
    await tick(60);
    assert.deepStrictEqual(cb.calls.errors.map((e) => e.code), ["timeout"]);
    assert.equal(conn.state, "done");
    assert.equal(host.listeners.size, 0);
  });

  test("host: after ready there is no handshake timeout", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    connectApp({ iframe, appOrigin: APP, context: {}, window: host, timeoutMs: 20, ...cb });
    const hc = await connectHost({ hostOrigin: HOST, window: app });
    await tick(60);
    assert.equal(cb.calls.errors.length, 0);
    await hc.sendOutput({ done: true });
    assert.equal(cb.calls.outputs.length, 1);
  });

  test("app: no context within timeoutMs rejects with timeout and stats", async () => {
    const { app } = setup();
    await assert.rejects(connectHost({ hostOrigin: HOST, window: app, timeoutMs: 30, readyIntervalMs: 5 }), (e) => {
      assert.equal(e.code, "timeout");
      assert.ok(e.stats);
      return true;
    });
    assert.equal(app.listeners.size, 0);
  });

  test("app: context from an unexpected origin or from a window other than the parent is ignored", async () => {
    const { host, app, iframe } = setup();
    const p = connectHost({ hostOrigin: "https://other-tenant.guidepath.example", window: app, timeoutMs: 50, readyIntervalMs: 5 });
    // the embedding host (HOST) is not the expected origin: its readies never arrive (targetOrigin) and
    // a context it pushes with "*" is ignored
    iframe.contentWindow.postMessage({ type: "guidepath:context", version: 1, channel: "c".repeat(32), context: { leak: 1 } }, "*");
    // a context from some other window with the expected origin is ignored too
    app.deliver({ type: "guidepath:context", version: 1, channel: "d".repeat(32), context: {} }, { origin: "https://other-tenant.guidepath.example", source: { someone: "else" } });
    await assert.rejects(p, (e) => {
      assert.equal(e.code, "timeout");
      assert.equal(e.stats.ignoredBy.origin, 1);
      assert.equal(e.stats.ignoredBy.source, 1);
      return true;
    });
    assert.equal(host.received.length, 0, "ready was never delivered to a host with another origin");
  });

  test("app: several allowed host origins; only the real parent gets ready", async () => {
    const { host, app, iframe } = setup();
    const cb = collect();
    connectApp({ iframe, appOrigin: APP, context: { t: 1 }, window: host, ...cb });
    const hc = await connectHost({ hostOrigin: ["https://beta.guidepath.example", HOST], window: app });
    assert.equal(hc.hostOrigin, HOST);
    assert.deepStrictEqual(hc.context, { t: 1 });
  });

  test("app: the host's verdict must come from the parent, connected origin and channel", async () => {
    const { host, app, iframe } = setup();
    connectApp({ iframe, appOrigin: APP, context: {}, window: host, ...collect(), onOutput: () => {} });
    const hc = await connectHost({ hostOrigin: HOST, window: app, resultTimeoutMs: 5000 });
    // forge an "accepted" verdict for id 1 from elsewhere before the real one arrives
    const pending = hc.sendOutput({ a: 1 });
    app.deliver({ type: "guidepath:result", version: 1, channel: hc.channel, id: 1, accepted: false, code: "forged" }, { origin: HOST, source: {} });
    app.deliver({ type: "guidepath:result", version: 1, channel: "x", id: 1, accepted: false, code: "forged" }, { origin: HOST, source: app.parent });
    app.deliver({ type: "guidepath:result", version: 1, channel: hc.channel, id: 1, accepted: false, code: "forged" }, { origin: APP, source: app.parent });
    assert.deepStrictEqual(await pending, { accepted: true });
    assert.equal(hc.stats.ignoredBy.source, 1);
    assert.equal(hc.stats.ignoredBy.channel, 1);
    assert.equal(hc.stats.ignoredBy.origin, 1);
  });

  test("app: not inside a frame", async () => {
    const lone = new FakeWindow(APP);
    await assert.rejects(connectHost({ hostOrigin: HOST, window: lone }), (e) => e.code === "not_framed");
  });
});

describe("arguments", () => {
  const base = () => {
    const { host, iframe } = setup();
    return { iframe, appOrigin: APP, context: {}, window: host, onOutput() {}, onError() {} };
  };

  test("the iframe must be sandboxed", () => {
    const { host, iframe } = setup({ sandbox: null });
    assert.throws(() => connectApp({ ...base(), iframe, window: host }), (e) => e.code === "invalid_argument" && /sandbox/.test(e.message));
  });

  test("allow-scripts + allow-same-origin for a same-origin app is refused (sandbox escape)", () => {
    const { host, iframe } = setup({ sandbox: "allow-scripts allow-same-origin", appOrigin: HOST });
    assert.throws(() => connectApp({ ...base(), iframe, appOrigin: HOST, window: host }), (e) => e.code === "invalid_argument" && /sandbox/.test(e.message));
  });

  test("origins must be exact serialized origins", () => {
    for (const bad of ["*", "null", "https://apps.vendor.example/", "https://apps.vendor.example/app", "apps.vendor.example", "", undefined, "HTTPS://Apps.Vendor.Example"]) {
      assert.throws(() => connectApp({ ...base(), appOrigin: bad }), (e) => e.code === "invalid_argument", String(bad));
    }
    assert.doesNotThrow(() => connectApp({ ...base(), appOrigin: "http://localhost:8080" }).close());
  });

  test("context must be a plain JSON object within the cap", () => {
    for (const bad of [null, [], "x", { d: new Date() }, { s: "x".repeat(MAX_OUTPUT_BYTES + 1) }]) {
      assert.throws(() => connectApp({ ...base(), context: bad }), (e) => e.code === "invalid_argument");
    }
  });

  test("callbacks and timeouts", () => {
    assert.throws(() => connectApp({ ...base(), onOutput: undefined }), (e) => e.code === "invalid_argument");
    assert.throws(() => connectApp({ ...base(), onError: undefined }), (e) => e.code === "invalid_argument");
    assert.throws(() => connectApp({ ...base(), timeoutMs: 0 }), (e) => e.code === "invalid_argument");
    assert.throws(() => connectApp({ ...base(), timeoutMs: "10" }), (e) => e.code === "invalid_argument");
  });

  test("connectHost validates hostOrigin", async () => {
    const { app } = setup();
    for (const bad of [undefined, "*", "null", [], ["https://ok.example", "*"], "https://x.example/path"]) {
      await assert.rejects(connectHost({ hostOrigin: bad, window: app }), (e) => e.code === "invalid_argument", String(bad));
    }
  });

  test("protocol constants", () => {
    assert.equal(PROTOCOL_VERSION, 1);
    assert.equal(MAX_OUTPUT_BYTES, 262144);
  });
});

describe("json-value", () => {
  test("plain JSON accepted, sizes in UTF-8 bytes", () => {
    assert.deepStrictEqual(checkJSONValue({ a: [1, "é", null, true] }), { ok: true, bytes: utf8Length('{"a":[1,"é",null,true]}') });
    assert.equal(utf8Length("a"), 1);
    assert.equal(utf8Length("é"), 2);
    assert.equal(utf8Length("€"), 3);
    assert.equal(utf8Length("😀"), 4);
    assert.equal(checkJSONValue(Object.create(null)).ok, true);
    assert.equal(checkJSONValue(vm.runInNewContext("({a: [1, {b: 2}]})")).ok, true, "objects from another realm");
    assert.equal(checkJSONValue(vm.runInNewContext("({d: new Date()})")).code, "not_json");
  });

  test("refusals", () => {
    const cyc = {};
    cyc.self = cyc;
    assert.equal(checkJSONValue(cyc).code, "not_json");
    let deep = 1;
    for (let i = 0; i < 100; i += 1) deep = [deep];
    assert.equal(checkJSONValue(deep, { maxDepth: 64 }).code, "too_deep");
    assert.equal(checkJSONValue({ get x() { return 1; } }).code, "not_json");
    assert.equal(checkJSONValue({ [Symbol("s")]: 1 }).code, "not_json");
    assert.equal(checkJSONValue(new (class Foo {})()).code, "not_json");
    assert.equal(checkJSONValue(new Uint8Array(2)).code, "not_json");
    assert.equal(checkJSONValue({ u: undefined }).code, "not_json");
    assert.equal(checkJSONValue(JSON.parse('{"a": {"__proto__": 1}}')).pointer, "/a/__proto__");
  });
});

describe("json-schema-lite", () => {
  test("types, enums, const, nested objects and arrays", () => {
    const v = compileSchema({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "out",
      type: "object",
      properties: {
        kind: { enum: ["a", "b"] },
        fixed: { const: { x: [1] } },
        tags: { type: "array", items: { type: "string", minLength: 2, pattern: "^[a-z]+$" }, maxItems: 2 },
        n: { type: ["integer", "null"], exclusiveMinimum: 0, multipleOf: 0.5 },
        rest: true,
      },
      additionalProperties: { type: "number" },
    });
    assert.deepStrictEqual(v({ kind: "a", fixed: { x: [1] }, tags: ["ab"], n: null, other: 3 }), []);
    const errs = v({ kind: "c", fixed: { x: [2] }, tags: ["A", "abc", "de"], n: 0, other: "3" });
    assert.deepStrictEqual(errs.map((e) => e.pointer), ["/kind", "/fixed", "/tags", "/tags/0", "/tags/0", "/n", "/other"]);
    assert.deepStrictEqual(compileSchema(false)({}).length, 1);
    assert.deepStrictEqual(compileSchema({ type: "integer" })(1.0), []);
    assert.equal(compileSchema({ type: "integer" })(1.5).length, 1);
    assert.deepStrictEqual(compileSchema({ maxLength: 1 })("😀"), []); // code points, not UTF-16 units
    assert.deepStrictEqual(compileSchema({ multipleOf: 0.1 })(0.3), []);
  });

  test("unsupported or malformed schemas are refused", () => {
    for (const s of [{ $ref: "#/x" }, { allOf: [] }, { items: [{}] }, { type: "float" }, { pattern: "(" }, { minLength: -1 }, { required: "a" }, 5, { properties: { a: { oneOf: [] } } }]) {
      assert.throws(() => compileSchema(s), SchemaError, JSON.stringify(s));
    }
  });
});
