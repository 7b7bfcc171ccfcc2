/**
 * A small JSON Schema validator for Guided Path App output schemas, used in the browser
 * to give an app immediate feedback. The server validates the same output again with a
 * full JSON Schema (2020-12) implementation before it reaches variables; this file only
 * has to agree with it on the keywords it supports, and it refuses (at compile time)
 * every schema that uses a keyword it does not implement, so it never silently accepts
 * what the server would refuse.
 *
 * Supported: type (string or list; "integer" included), enum, const, properties,
 * required, additionalProperties (boolean or schema), minProperties, maxProperties,
 * items (one schema), minItems, maxItems, minLength, maxLength (in code points),
 * pattern (ECMA-262, unanchored, "u" flag), minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum (numbers), multipleOf, and the boolean schemas true/false.
 * Annotations ($schema, $id, $comment, title, description, default, examples, format,
 * readOnly, writeOnly, deprecated) are ignored, as JSON Schema does by default.
 */

const TYPES = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);
const ANNOTATIONS = new Set(["$schema", "$id", "$comment", "title", "description", "default", "examples", "format", "readOnly", "writeOnly", "deprecated"]);
const KEYWORDS = new Set([
  "type", "enum", "const",
  "properties", "required", "additionalProperties", "minProperties", "maxProperties",
  "items", "minItems", "maxItems",
  "minLength", "maxLength", "pattern",
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
]);
const MAX_ERRORS = 20;

export class SchemaError extends Error {
  constructor(message) {
    super(message);
    this.name = "SchemaError";
  }
}

function escapePointer(key) {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value; // "boolean" | "number" | "string" | "object"
}

function jsonEqual(a, b) {
  if (a === b) return true;
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  if (ta === "array") return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (ta === "object") {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

const isNonNegInt = (n) => Number.isInteger(n) && n >= 0;
const codePoints = (s) => {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
};

/**
 * Compile a schema. Throws SchemaError if it is malformed or uses an unsupported keyword.
 * @returns {(value: unknown) => Array<{pointer: string, message: string}>} empty when valid
 */
export function compileSchema(schema) {
  const check = compile(schema, "#");
  return (value) => {
    const errors = [];
    check(value, "", errors);
    return errors;
  };
}

function compile(schema, at) {
  if (schema === true) return () => {};
  if (schema === false) return (value, pointer, errors) => push(errors, pointer, "no value is allowed here");
  if (typeOf(schema) !== "object") throw new SchemaError(`schema at ${at} must be an object or a boolean`);
  const checks = [];
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) {
      throw new SchemaError(`unsupported JSON Schema keyword "${key}" at ${at} (supported: ${[...KEYWORDS].join(", ")})`);
    }
  }
  const s = schema;

  if ("type" in s) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.length || !types.every((t) => TYPES.has(t))) throw new SchemaError(`bad "type" at ${at}`);
    checks.push((v, p, e) => {
      const t = typeOf(v);
      const ok = types.some((want) => want === t || (want === "integer" && t === "number" && Number.isInteger(v)));
      if (!ok) push(e, p, `must be ${types.join(" or ")}, not ${t}`);
    });
  }
  if ("enum" in s) {
    if (!Array.isArray(s.enum)) throw new SchemaError(`"enum" at ${at} must be an array`);
    checks.push((v, p, e) => {
      if (!s.enum.some((x) => jsonEqual(x, v))) push(e, p, `must be one of ${JSON.stringify(s.enum)}`);
    });
  }
  if ("const" in s) {
    checks.push((v, p, e) => {
      if (!jsonEqual(s.const, v)) push(e, p, `must be ${JSON.stringify(s.const)}`);
    });
  }

  // objects
  const props = {};
  if ("properties" in s) {
    if (typeOf(s.properties) !== "object") throw new SchemaError(`"properties" at ${at} must be an object`);
    for (const [k, sub] of Object.entries(s.properties)) props[k] = compile(sub, `${at}/properties/${escapePointer(k)}`);
  }
  const additional = "additionalProperties" in s ? compile(s.additionalProperties, `${at}/additionalProperties`) : null;
  if ("required" in s && !(Array.isArray(s.required) && s.required.every((k) => typeof k === "string"))) {
    throw new SchemaError(`"required" at ${at} must be an array of strings`);
  }
  for (const k of ["minProperties", "maxProperties", "minItems", "maxItems", "minLength", "maxLength"]) {
    if (k in s && !isNonNegInt(s[k])) throw new SchemaError(`"${k}" at ${at} must be a non-negative integer`);
  }
  checks.push((v, p, e) => {
    if (typeOf(v) !== "object") return;
    for (const k of s.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) push(e, `${p}/${escapePointer(k)}`, "is required");
    }
    const keys = Object.keys(v);
    if ("minProperties" in s && keys.length < s.minProperties) push(e, p, `must have at least ${s.minProperties} properties`);
    if ("maxProperties" in s && keys.length > s.maxProperties) push(e, p, `must have at most ${s.maxProperties} properties`);
    for (const k of keys) {
      const child = `${p}/${escapePointer(k)}`;
      if (Object.prototype.hasOwnProperty.call(props, k)) props[k](v[k], child, e);
      else if (additional) {
        if (s.additionalProperties === false) push(e, child, "is not an allowed property");
        else additional(v[k], child, e);
      }
    }
  });

  // arrays
  if ("items" in s && Array.isArray(s.items)) throw new SchemaError(`tuple "items" at ${at} is not supported`);
  const items = "items" in s ? compile(s.items, `${at}/items`) : null;
  checks.push((v, p, e) => {
    if (!Array.isArray(v)) return;
    if ("minItems" in s && v.length < s.minItems) push(e, p, `must have at least ${s.minItems} items`);
    if ("maxItems" in s && v.length > s.maxItems) push(e, p, `must have at most ${s.maxItems} items`);
    if (items) v.forEach((x, i) => items(x, `${p}/${i}`, e));
  });

  // strings
  let regex = null;
  if ("pattern" in s) {
    if (typeof s.pattern !== "string") throw new SchemaError(`"pattern" at ${at} must be a string`);
    try {
      regex = new RegExp(s.pattern, "u");
    } catch (err) {
      throw new SchemaError(`"pattern" at ${at} is not a valid regular expression: ${err.message}`);
    }
  }
  checks.push((v, p, e) => {
    if (typeof v !== "string") return;
    if ("minLength" in s || "maxLength" in s) {
      const n = codePoints(v);
      if ("minLength" in s && n < s.minLength) push(e, p, `must be at least ${s.minLength} characters`);
      if ("maxLength" in s && n > s.maxLength) push(e, p, `must be at most ${s.maxLength} characters`);
    }
    if (regex && !regex.test(v)) push(e, p, `must match ${s.pattern}`);
  });

  // numbers
  for (const k of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]) {
    if (k in s && !(typeof s[k] === "number" && Number.isFinite(s[k]))) throw new SchemaError(`"${k}" at ${at} must be a number`);
  }
  if ("multipleOf" in s && !(s.multipleOf > 0)) throw new SchemaError(`"multipleOf" at ${at} must be greater than 0`);
  checks.push((v, p, e) => {
    if (typeof v !== "number") return;
    if ("minimum" in s && v < s.minimum) push(e, p, `must be >= ${s.minimum}`);
    if ("maximum" in s && v > s.maximum) push(e, p, `must be <= ${s.maximum}`);
    if ("exclusiveMinimum" in s && v <= s.exclusiveMinimum) push(e, p, `must be > ${s.exclusiveMinimum}`);
    if ("exclusiveMaximum" in s && v >= s.exclusiveMaximum) push(e, p, `must be < ${s.exclusiveMaximum}`);
    if ("multipleOf" in s) {
      const q = v / s.multipleOf;
      if (!Number.isInteger(q) && Math.abs(q - Math.round(q)) > 1e-9) push(e, p, `must be a multiple of ${s.multipleOf}`);
    }
  });

  return (value, pointer, errors) => {
    for (const c of checks) {
      if (errors.length >= MAX_ERRORS) return;
      c(value, pointer, errors);
    }
  };
}

function push(errors, pointer, message) {
  if (errors.length < MAX_ERRORS) errors.push({ pointer, message });
}
