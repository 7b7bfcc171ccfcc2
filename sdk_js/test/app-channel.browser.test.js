// The app channel in a real browser: Debian's Chromium driven by playwright-core (which
// never downloads a browser). Three origins on loopback, served by a tiny http server
// started here:
//   host page  http://127.0.0.1:A   (the Guided Path step)
//   app        http://localhost:B   (the Guided Path App, in <iframe sandbox="allow-scripts">)
//   elsewhere  http://127.0.0.1:C   (a third origin that tries to forge messages)
// Without Chromium the suite is skipped with a reason (npm test installs nothing), unless
// GUIDEPATH_REQUIRE_BROWSER=1, which turns a missing browser into a failure.
// GUIDEPATH_CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(here, "..", "src");
const pagesDir = path.join(here, "browser");

const CHROMIUM = process.env.GUIDEPATH_CHROMIUM || "/usr/bin/chromium";
const REQUIRE_BROWSER = process.env.GUIDEPATH_REQUIRE_BROWSER === "1";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

let playwright = null;
let missing = null; // why the browser test cannot run here
if (!existsSync(CHROMIUM)) {
  missing = `Chromium not found at ${CHROMIUM} (install it with "apt-get install -y chromium")`;
} else {
  try {
    playwright = await import("playwright-core");
  } catch (err) {
    missing = `playwright-core is not installed (${err.message}; run npm ci)`;
  }
}
const skipReason = missing ? `${missing}: browser test skipped; set GUIDEPATH_REQUIRE_BROWSER=1 to make this a failure` : false;

if (missing) {
  if (REQUIRE_BROWSER) {
    test("a real browser is required (GUIDEPATH_REQUIRE_BROWSER=1)", () => assert.fail(`${missing} and GUIDEPATH_REQUIRE_BROWSER=1`));
  } else {
    console.log(skipReason);
  }
}

function serve() {
  // Same content on every port; the origin is what differs.
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let file = null;
    let type = "text/html; charset=utf-8";
    if (/^\/sdk\/[a-z-]+\.(js|json)$/.test(url.pathname)) {
      file = path.join(srcDir, path.basename(url.pathname));
      type = url.pathname.endsWith(".json") ? "application/json" : "text/javascript; charset=utf-8";
    } else if (/^\/[a-z]+\.html$/.test(url.pathname)) {
      file = path.join(pagesDir, path.basename(url.pathname));
    }
    if (!file || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    // The app runs with an opaque origin: its module scripts are cross-origin fetches.
    res.writeHead(200, { "content-type": type, "access-control-allow-origin": "*", "cache-control": "no-store" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("app channel in Chromium", { skip: skipReason, timeout: 120_000 }, () => {
  let servers = [];
  let browser;
  let HOST, APP, ELSEWHERE;

  before(async () => {
    servers = await Promise.all([serve(), serve(), serve()]);
    const [a, b, c] = servers.map((s) => s.address().port);
    HOST = `http://127.0.0.1:${a}`;
    APP = `http://localhost:${b}`;
    ELSEWHERE = `http://127.0.0.1:${c}`;
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections?.(); s.close(r); })));
  });

  async function hostPage(origin = HOST) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    await page.goto(`${origin}/host.html`);
    await page.waitForFunction(() => window.hostReady === true);
    return { page, context, problems };
  }

  /** Embed the app and connect to it from the host page; returns the channel id. */
  async function embed(page, { appUrl, appOrigin, sandbox = "allow-scripts", outputSchema, timeoutMs = 10_000 }) {
    return page.evaluate(
      ({ appUrl, appOrigin, sandbox, outputSchema, timeoutMs }) => {
        window.results = { outputs: [], errors: [], rejects: [] };
        const iframe = document.createElement("iframe");
        iframe.id = "app";
        iframe.setAttribute("sandbox", sandbox);
        window.conn = window.channel.connectApp({
          iframe,
          appOrigin,
          context: { question: "Is the charger light on?", vars: { os: "android" } },
          outputSchema,
          timeoutMs,
          onOutput: (o) => window.results.outputs.push(o),
          onError: (e) => window.results.errors.push({ code: e.code, message: e.message }),
          onReject: (e) => window.results.rejects.push({ code: e.code, message: e.message }),
        });
        iframe.src = appUrl; // after connectApp: the first ready cannot be missed
        document.body.append(iframe);
        return window.conn.channel;
      },
      { appUrl, appOrigin, sandbox, outputSchema, timeoutMs },
    );
  }

  async function appFrame(page) {
    let frame;
    const deadline = Date.now() + 10_000;
    while (!(frame = page.frames().find((f) => f.url().includes("/app.html")))) {
      if (Date.now() > deadline) throw new Error("app frame did not appear");
      await new Promise((r) => setTimeout(r, 20));
    }
    await frame.waitForFunction(() => window.appState && window.appState.status !== "connecting", null, { timeout: 15_000 });
    return frame;
  }

  test("sandboxed app (origin \"null\") receives the context and its output reaches the host", async () => {
    const { page, context, problems } = await hostPage();
    const channel = await embed(page, { appUrl: `${APP}/app.html?hostOrigin=${encodeURIComponent(HOST)}&mode=auto`, appOrigin: APP });
    await page.waitForFunction(() => window.results.outputs.length === 1, null, { timeout: 15_000 });
    const frame = await appFrame(page);
    await frame.waitForFunction(() => window.appState.status === "done");
    const app = await frame.evaluate(() => window.appState);
    assert.equal(app.origin, "null", "the sandboxed app has an opaque origin");
    assert.equal(app.channel, channel);
    assert.equal(app.hostOrigin, HOST);
    assert.deepStrictEqual(app.context, { question: "Is the charger light on?", vars: { os: "android" } });
    assert.deepStrictEqual(app.result, { accepted: true });

    const host = await page.evaluate(() => ({ results: window.results, stats: window.conn.stats, state: window.conn.state, seen: window.seen }));
    assert.deepStrictEqual(host.results.outputs, [{ echo: "Is the charger light on?", answered_by: "example-app" }]);
    assert.deepStrictEqual(host.results.errors, []);
    assert.equal(host.state, "done");
    assert.equal(host.stats.accepted, 1);
    const fromApp = host.seen.filter((m) => m.fromApp);
    assert.ok(fromApp.length >= 2 && fromApp.every((m) => m.origin === "null"), `app messages arrive with origin "null": ${JSON.stringify(fromApp)}`);
    assert.deepStrictEqual(problems, []);
    await context.close();
  });

  test("forged messages from other windows and origins are ignored; only the app's output counts", async () => {
    const { page, context, problems } = await hostPage();
    const channel = await embed(page, { appUrl: `${APP}/app.html?hostOrigin=${encodeURIComponent(HOST)}&mode=manual`, appOrigin: APP });
    const app = await appFrame(page);
    assert.equal(await app.evaluate(() => window.appState.status), "connected");
    const ignoredBefore = await page.evaluate(() => window.conn.stats.ignored);

    // 1. another sandboxed frame from the app's own origin: also origin "null", knows the channel
    // 2. a plain frame from a third origin
    await page.evaluate(({ APP, ELSEWHERE }) => {
      for (const [id, src, sandbox] of [["twin", `${APP}/evil.html`, "allow-scripts"], ["third", `${ELSEWHERE}/evil.html`, null]]) {
        const f = document.createElement("iframe");
        f.id = id;
        if (sandbox) f.setAttribute("sandbox", sandbox);
        f.src = src;
        document.body.append(f);
      }
    }, { APP, ELSEWHERE });
    const forged = { type: "guidepath:output", version: 1, channel, id: 1, output: { evil: true } };
    const forgedError = { type: "guidepath:error", version: 1, channel, message: "forged" };
    for (const origin of [APP, ELSEWHERE]) {
      let frame;
      while (!(frame = page.frames().find((f) => f.url().startsWith(`${origin}/evil.html`)))) await new Promise((r) => setTimeout(r, 20));
      await frame.waitForFunction(() => window.evilReady === true);
      const selfOrigin = await frame.evaluate(({ forged, forgedError }) => {
        parent.postMessage(forged, "*");
        parent.postMessage(forgedError, "*");
        parent.postMessage({ type: "guidepath:ready", version: 1 }, "*");
        return self.origin;
      }, { forged, forgedError });
      assert.equal(selfOrigin, origin === APP ? "null" : ELSEWHERE);
    }
    // 3. the host page itself, and 4. a popup window of a third origin posting to its opener
    await page.evaluate((forged) => window.postMessage(forged, "*"), forged);
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      page.evaluate((url) => { window.open(url, "_blank"); }, `${ELSEWHERE}/evil.html`),
    ]);
    await popup.waitForFunction(() => window.evilReady === true);
    await popup.evaluate((forged) => window.opener.postMessage(forged, "*"), forged);

    await page.waitForFunction((n) => window.conn.stats.ignored >= n, ignoredBefore + 8, { timeout: 10_000 });
    let host = await page.evaluate(() => ({ results: window.results, stats: window.conn.stats, state: window.conn.state }));
    assert.deepStrictEqual(host.results.outputs, []);
    assert.deepStrictEqual(host.results.errors, []);
    assert.equal(host.state, "connected");
    assert.equal(host.stats.ignoredBy.source, 8, JSON.stringify(host.stats));

    // the real app's output is still accepted, exactly once
    const result = await app.evaluate(() => window.appConn.sendOutput({ light_on: true }));
    assert.deepStrictEqual(result, { accepted: true });
    host = await page.evaluate(() => ({ results: window.results, stats: window.conn.stats, state: window.conn.state }));
    assert.deepStrictEqual(host.results.outputs, [{ light_on: true }]);
    assert.equal(host.state, "done");
    assert.deepStrictEqual(problems, []);
    await context.close();
  });

  test("an output over the size cap is refused (by the app library, and by the host when sent raw)", async () => {
    const { page, context } = await hostPage();
    const outputSchema = { type: "object", properties: { light_on: { type: "boolean" } }, required: ["light_on"] };
    await embed(page, { appUrl: `${APP}/app.html?hostOrigin=${encodeURIComponent(HOST)}&mode=manual`, appOrigin: APP, outputSchema });
    const app = await appFrame(page);

    const local = await app.evaluate(() => window.appConn.sendOutput({ blob: "x".repeat(300 * 1024) }).then(() => "sent", (e) => e.code));
    assert.equal(local, "too_large");

    await app.evaluate(() => {
      parent.postMessage({ type: "guidepath:output", version: 1, channel: window.appConn.channel, id: 99, output: { light_on: true, blob: "x".repeat(300 * 1024) } }, window.appConn.hostOrigin);
    });
    await page.waitForFunction(() => window.conn.stats.rejected === 1);
    await app.waitForFunction(() => window.appState.rawResults.length === 1);
    const verdict = await app.evaluate(() => window.appState.rawResults[0]);
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.code, "too_large");
    assert.equal(verdict.id, 99);

    // schema refusal is reported back to the app's promise with JSON Pointers
    const schemaRefusal = await app.evaluate(() => window.appConn.sendOutput({ light_on: "yes" }).then(() => null, (e) => ({ code: e.code, errors: e.errors })));
    assert.equal(schemaRefusal.code, "schema");
    assert.deepStrictEqual(schemaRefusal.errors.map((e) => e.pointer), ["/light_on"]);

    const host = await page.evaluate(() => ({ results: window.results, state: window.conn.state }));
    assert.deepStrictEqual(host.results.outputs, []);
    assert.deepStrictEqual(host.results.rejects.map((r) => r.code), ["too_large", "schema"]);
    assert.equal(host.state, "connected", "a refused output does not end the step; the app may retry");
    assert.deepStrictEqual(await app.evaluate(() => window.appConn.sendOutput({ light_on: false })), { accepted: true });
    assert.deepStrictEqual(await page.evaluate(() => window.results.outputs), [{ light_on: false }]);
    await context.close();
  });

  test("the app ignores a context from a host page of an unexpected origin", async () => {
    // A page on a third origin embeds the app, which only trusts HOST.
    const { page, context } = await hostPage(ELSEWHERE);
    await embed(page, { appUrl: `${APP}/app.html?hostOrigin=${encodeURIComponent(HOST)}&mode=auto&timeoutMs=1500`, appOrigin: APP, timeoutMs: 5000 });
    // it never hears ready (the browser drops messages addressed to HOST), so it pushes the context blindly
    await page.evaluate(() => {
      const frame = document.getElementById("app");
      window.pushes = setInterval(() => frame.contentWindow.postMessage({ type: "guidepath:context", version: 1, channel: "f".repeat(32), context: { steal: 1 } }, "*"), 100);
    });
    const app = await appFrame(page);
    const state = await app.evaluate(() => window.appState);
    assert.equal(state.status, "failed");
    assert.equal(state.error.code, "timeout");
    assert.ok(state.error.stats.ignoredBy.origin >= 1, JSON.stringify(state.error.stats));
    assert.equal(state.context, undefined);
    const evilHost = await page.evaluate(() => { clearInterval(window.pushes); return window.conn.stats; });
    assert.equal(evilHost.received, 0, "ready addressed to the expected host origin never reached this page");
    await context.close();
  });

  test("sandbox with allow-same-origin: messages carry the app's real origin, matched exactly", async () => {
    const { page, context } = await hostPage();
    await embed(page, { appUrl: `${APP}/app.html?hostOrigin=${encodeURIComponent(HOST)}&mode=auto`, appOrigin: APP, sandbox: "allow-scripts allow-same-origin" });
    await page.waitForFunction(() => window.results.outputs.length === 1, null, { timeout: 15_000 });
    const seen = await page.evaluate(() => window.seen.filter((m) => m.fromApp));
    assert.ok(seen.length >= 2 && seen.every((m) => m.origin === APP), JSON.stringify(seen));
    await context.close();
  });

  test("handshake timeout when the frame never becomes an app", async () => {
    const { page, context } = await hostPage();
    await embed(page, { appUrl: `${APP}/evil.html?app.html`, appOrigin: APP, timeoutMs: 500 });
    await page.waitForFunction(() => window.results.errors.length === 1, null, { timeout: 5000 });
    assert.deepStrictEqual(await page.evaluate(() => window.results.errors.map((e) => e.code)), ["timeout"]);
    await context.close();
  });
});
