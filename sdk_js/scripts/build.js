// Optional single-file browser bundles (npm run build -> dist/, which is git-ignored).
// The source modules are usable as they are with any bundler or in Node; these bundles
// are for pages without a bundler:
//   dist/expressions.js   ES module, json-logic-js and the limits inlined
//   dist/app-channel.js   ES module
//   dist/guidepath-sdk.js classic script defining window.GuidepathSDK = {expressions, appChannel}
// `npm test` does not depend on this.
import { build } from "esbuild";

const common = { bundle: true, target: ["es2020"], legalComments: "inline", logLevel: "info" };

await build({ ...common, entryPoints: { expressions: "src/expressions.js", "app-channel": "src/app-channel.js" }, outdir: "dist", format: "esm" });
await build({
  ...common,
  stdin: {
    contents: 'export * as expressions from "./src/expressions.js"; export * as appChannel from "./src/app-channel.js";',
    resolveDir: ".",
    sourcefile: "guidepath-sdk-entry.js",
  },
  outfile: "dist/guidepath-sdk.js",
  format: "iife",
  globalName: "GuidepathSDK",
});
