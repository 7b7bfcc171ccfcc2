/**
 * Checks that a value is plain JSON (and therefore safe to postMessage and to store as
 * Guided Path variables) and measures its size as UTF-8 JSON text.
 *
 * Plain JSON here means: null, booleans, finite numbers, strings, arrays, and objects
 * whose prototype is null or Object.prototype (of any realm), nested at most `maxDepth` levels, with
 * no cycles and no "__proto__" key (which turns into a prototype change as soon as
 * someone does Object.assign(vars, output)).
 */

export const DEFAULT_MAX_DEPTH = 64;

/** Bytes of the UTF-8 encoding of a string (what JSON.stringify(x) would weigh on the wire). */
export function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function escapePointer(key) {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

function describe(value) {
  if (value === undefined) return "undefined";
  if (typeof value === "number") return String(value);
  if (typeof value === "object") return value?.constructor?.name ? `a ${value.constructor.name}` : "a non-plain object";
  return `a ${typeof value}`;
}

/**
 * @returns {{ok: true, bytes: number} | {ok: false, code: "not_json"|"too_large"|"too_deep", message: string, pointer: string}}
 */
export function checkJSONValue(value, { maxBytes = Infinity, maxDepth = DEFAULT_MAX_DEPTH, requireObject = false } = {}) {
  if (requireObject && (value === null || typeof value !== "object" || Array.isArray(value))) {
    return { ok: false, code: "not_json", message: `must be a JSON object, not ${Array.isArray(value) ? "an array" : describe(value)}`, pointer: "" };
  }
  // Lower bound of the UTF-8 size (every UTF-16 unit of a string or key weighs at least one byte),
  // so that a huge value is refused without serialising it.
  let lowerBound = 0;
  const ancestors = new Set();
  const fail = (code, message, pointer) => ({ ok: false, code, message, pointer });

  function walk(v, pointer, depth) {
    if (v === null || typeof v === "boolean") return null;
    if (typeof v === "string") {
      lowerBound += v.length;
      return lowerBound > maxBytes ? fail("too_large", `is larger than ${maxBytes} bytes`, pointer) : null;
    }
    if (typeof v === "number") {
      return Number.isFinite(v) ? null : fail("not_json", `${v} at ${pointer || "/"} is not a JSON number`, pointer);
    }
    if (typeof v !== "object") return fail("not_json", `${describe(v)} at ${pointer || "/"} is not JSON`, pointer);
    if (depth > maxDepth) return fail("too_deep", `is nested deeper than ${maxDepth} levels`, pointer);
    if (ancestors.has(v)) return fail("not_json", `contains a cycle at ${pointer || "/"}`, pointer);
    let keys;
    if (Array.isArray(v)) {
      keys = null;
    } else {
      // null prototype, or some realm's Object.prototype (values may come from another frame)
      const proto = Object.getPrototypeOf(v);
      const plain = proto === null || (Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(v) === "[object Object]");
      if (!plain) return fail("not_json", `${describe(v)} at ${pointer || "/"} is not plain JSON`, pointer);
      keys = Object.keys(v);
      if (Object.getOwnPropertySymbols(v).length) return fail("not_json", `symbol keys at ${pointer || "/"} are not JSON`, pointer);
    }
    ancestors.add(v);
    if (keys === null) {
      for (let i = 0; i < v.length; i += 1) {
        const r = walk(v[i], `${pointer}/${i}`, depth + 1);
        if (r) return r;
      }
    } else {
      for (const key of keys) {
        const child = `${pointer}/${escapePointer(key)}`;
        if (key === "__proto__") return fail("not_json", `the key "__proto__" at ${child} is not allowed`, child);
        const desc = Object.getOwnPropertyDescriptor(v, key);
        if (!("value" in desc)) return fail("not_json", `accessor property at ${child} is not JSON`, child);
        lowerBound += key.length;
        const r = walk(desc.value, child, depth + 1);
        if (r) return r;
      }
    }
    ancestors.delete(v);
    return lowerBound > maxBytes ? fail("too_large", `is larger than ${maxBytes} bytes`, pointer) : null;
  }

  const problem = walk(value, "", 1);
  if (problem) return problem;
  const bytes = utf8Length(JSON.stringify(value));
  if (bytes > maxBytes) return fail("too_large", `is ${bytes} bytes of JSON, more than the ${maxBytes} allowed`, "");
  return { ok: true, bytes };
}
