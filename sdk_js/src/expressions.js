/**
 * Guided Path expressions: JsonLogic rules evaluated with json-logic-js, guarded
 * exactly like the server does it (guided_paths/sansio/expressions.py).
 *
 * Why a guard around json-logic-js: rules are written by tenant admins and run in
 * customers' browsers and on our servers. Before anything is evaluated a rule must
 *   - be plain JSON,
 *   - stay within MAX_DEPTH and MAX_NODES (so a hostile rule cannot exhaust a stack or a CPU),
 *   - use only ALLOWED_OPERATORS (the standard JsonLogic operators minus `method`).
 * The limits and the allowlist live in expression-limits.json, which the Python side
 * reads too, so both ends refuse and accept the same rules.
 *
 * Data model for Guided Paths: {"vars": {...}, "answers": {...}}; rules read it with
 * {"var": "vars.os"} or {"var": "answers.q_battery"}. `evaluate` accepts any JSON data
 * (the conformance cases use other shapes).
 */
import jsonLogic from "json-logic-js";
import limits from "./expression-limits.json" with { type: "json" };

/** Deepest allowed nesting of JSON values in a rule (the root has depth 1). */
export const MAX_DEPTH = limits.max_depth;
/** Most JSON values (nodes) a rule may contain. */
export const MAX_NODES = limits.max_nodes;
/** Exactly the standard JsonLogic operators minus `method`. */
export const ALLOWED_OPERATORS = Object.freeze([...limits.allowed_operators]);

const ALLOWED = new Set(ALLOWED_OPERATORS);
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Raised for every refused rule or data and for failures during evaluation.
 * `code` is one of: invalid_rule, too_deep, too_many_nodes, unknown_operator,
 * invalid_data, evaluation_failed. `pointer` is a JSON Pointer into the rule
 * (or the data for invalid_data) where the problem is, when there is one.
 */
export class ExpressionError extends Error {
  constructor(code, message, { pointer = null, operator = undefined, cause = undefined } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ExpressionError";
    this.code = code;
    this.pointer = pointer;
    if (operator !== undefined) this.operator = operator;
  }
}

function escapePointer(key) {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A plain object: its prototype is null or some realm's Object.prototype (rules may come from another frame). */
function isPlainObject(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || (Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(value) === "[object Object]");
}

function jsonKind(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return "scalar";
    case "number":
      return Number.isFinite(value) ? "scalar" : "bad-number";
    case "object":
      if (Array.isArray(value)) return "array";
      return isPlainObject(value) ? "object" : "non-plain-object";
    default:
      return typeof value; // undefined, function, symbol, bigint
  }
}

function describeNonJSON(kind, value) {
  if (kind === "bad-number") return `the number ${value} is not JSON`;
  if (kind === "non-plain-object") {
    const name = value?.constructor?.name;
    return `${name ? `a ${name}` : "this object"} is not plain JSON`;
  }
  return `a value of type ${kind} is not JSON`;
}

/** One JsonLogic operation: an object with exactly one key (json-logic-js `is_logic`). */
function isLogic(value) {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 1
  );
}

/**
 * Check size and depth (iteratively, with an early exit, so a huge or deeply
 * nested rule costs at most MAX_NODES steps) and that every value is JSON.
 */
function checkShape(rule) {
  const stack = [{ value: rule, depth: 1, pointer: "" }];
  let seen = 0;
  while (stack.length) {
    const { value, depth, pointer } = stack.pop();
    seen += 1;
    if (depth > MAX_DEPTH) {
      throw new ExpressionError(
        "too_deep",
        `rule is nested deeper than ${MAX_DEPTH} levels (at ${pointer || "/"})`,
        { pointer },
      );
    }
    const kind = jsonKind(value);
    let keys;
    if (kind === "array") keys = value.map((_, i) => i);
    else if (kind === "object") keys = Object.keys(value);
    else if (kind === "scalar" || kind === "null") keys = [];
    else {
      throw new ExpressionError("invalid_rule", `rule is not plain JSON at ${pointer || "/"}: ${describeNonJSON(kind, value)}`, { pointer });
    }
    if (seen + stack.length + keys.length > MAX_NODES) {
      throw new ExpressionError(
        "too_many_nodes",
        `rule has more than ${MAX_NODES} nodes (JSON values)`,
        { pointer },
      );
    }
    for (let i = keys.length - 1; i >= 0; i -= 1) {
      const key = keys[i];
      stack.push({ value: value[key], depth: depth + 1, pointer: `${pointer}/${escapePointer(key)}` });
    }
  }
  return seen;
}

/** Refuse any operator outside the allowlist. Runs after checkShape, so recursion depth is bounded. */
function checkOperators(node, pointer) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkOperators(item, `${pointer}/${i}`));
    return;
  }
  if (!isLogic(node)) return; // scalars, and objects with 0 or 2+ keys are literal data
  const op = Object.keys(node)[0];
  if (!ALLOWED.has(op)) {
    const why = op === "method" ? " (refused: it calls methods on data)" : "";
    throw new ExpressionError(
      "unknown_operator",
      `unknown or refused JsonLogic operator ${JSON.stringify(op)}${why} at ${pointer || "/"}`,
      { pointer, operator: op },
    );
  }
  checkOperators(node[op], `${pointer}/${escapePointer(op)}`);
}

/**
 * Validate a rule without evaluating it: JSON-ness, MAX_DEPTH, MAX_NODES, operators.
 * Throws ExpressionError; returns the number of nodes otherwise.
 */
export function validateRule(rule) {
  if (rule === undefined) throw new ExpressionError("invalid_rule", "rule is missing (undefined)", { pointer: "" });
  const nodes = checkShape(rule);
  checkOperators(rule, "");
  return nodes;
}

// Data objects are copied onto this prototype: nothing inherited is reachable through
// {"var": "x.constructor"} or {"var": "answers.toString"} (an unanswered question whose
// id is "toString" is null, as on the server), while string conversion still gives
// "[object Object]" exactly like a plain object does in json-logic-js.
const DATA_PROTO = Object.freeze(
  Object.create(null, {
    [Symbol.toPrimitive]: { value: () => "[object Object]" },
  }),
);

function copyData(value, pointer, ancestors) {
  const kind = jsonKind(value);
  if (kind === "scalar" || kind === "null") return value;
  if (kind === "array" || kind === "object") {
    if (ancestors.has(value)) {
      throw new ExpressionError("invalid_data", `data contains a cycle at ${pointer || "/"}`, { pointer });
    }
    ancestors.add(value);
    let out;
    if (kind === "array") {
      out = new Array(value.length);
      for (let i = 0; i < value.length; i += 1) out[i] = copyData(value[i], `${pointer}/${i}`, ancestors);
    } else {
      out = Object.create(DATA_PROTO);
      for (const key of Object.keys(value)) {
        if (value[key] === undefined) continue; // as JSON.stringify: the member is absent
        out[key] = copyData(value[key], `${pointer}/${escapePointer(key)}`, ancestors);
      }
    }
    ancestors.delete(value);
    return out;
  }
  if (kind === "undefined" && pointer !== "") return null; // an undefined array element is null, as in JSON
  throw new ExpressionError("invalid_data", `data is not plain JSON at ${pointer || "/"}: ${describeNonJSON(kind, value)}`, { pointer });
}

/** Results are JSON: undefined/NaN/Infinity -> null, -0 -> 0, functions -> null, plain objects. */
function toJSONValue(value, ancestors = new Set()) {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) return null;
      return value === 0 ? 0 : value;
    case "object": {
      if (ancestors.has(value)) return null;
      ancestors.add(value);
      let out;
      if (Array.isArray(value)) out = value.map((item) => toJSONValue(item, ancestors));
      else {
        out = {};
        for (const key of Object.keys(value)) {
          const v = value[key];
          if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
          out[key] = toJSONValue(v, ancestors);
        }
      }
      ancestors.delete(value);
      return out;
    }
    default:
      return null; // functions, symbols, bigints never come out of a rule as data
  }
}

/**
 * Evaluate a Guided Path rule. Refuses (ExpressionError) before evaluating anything if
 * the rule breaks a limit or uses an operator outside ALLOWED_OPERATORS.
 *
 * @param {unknown} rule  a JsonLogic rule (plain JSON)
 * @param {unknown} [data={}]  plain JSON; for Guided Paths {"vars": {...}, "answers": {...}}
 * @returns {unknown} a JSON value
 */
export function evaluate(rule, data = {}) {
  validateRule(rule);
  const safeData = copyData(data, "", new Set());
  let result;
  try {
    result = jsonLogic.apply(rule, safeData);
  } catch (err) {
    throw new ExpressionError("evaluation_failed", `rule could not be evaluated: ${err?.message ?? err}`, { cause: err });
  }
  return toJSONValue(result);
}

function addName(out, name) {
  if (typeof name === "string" || typeof name === "number" || typeof name === "boolean") {
    const path = String(name);
    if (path !== "") out.add(path);
  }
}

const SCOPED_OPERATORS = new Set(["map", "filter", "all", "none", "some", "reduce"]);

/** The literal data-path arguments of var / missing / missing_some (as json-logic-js reads them). */
function literalPaths(op, args) {
  if (op === "var") return args.length ? [args[0]] : [];
  // missing: if the first argument is an array, it is the list of keys; otherwise all arguments are
  if (op === "missing") return Array.isArray(args[0]) ? args[0] : args;
  if (op === "missing_some" && args.length === 2) return Array.isArray(args[1]) ? args[1] : [args[1]];
  return [];
}

/**
 * Collect the data paths read at the top scope. The second argument of
 * map/filter/all/none/some/reduce is evaluated per item, where `var` reads the item (or
 * {current, accumulator}), so names there are not data paths. Objects with zero or
 * several keys are literal data and are not walked. Same walk as the server's
 * variables_used (guided_paths/sansio/rule_analysis.py).
 */
function collect(node, topLevel, out) {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, topLevel, out);
    return;
  }
  if (!isLogic(node)) return;
  const op = Object.keys(node)[0];
  const raw = node[op];
  const args = Array.isArray(raw) ? raw : [raw];
  if (topLevel) for (const name of literalPaths(op, args)) addName(out, name);
  if (!Array.isArray(raw)) {
    collect(raw, topLevel, out);
    return;
  }
  const scoping = SCOPED_OPERATORS.has(op);
  raw.forEach((arg, i) => collect(arg, topLevel && !(scoping && i === 1), out));
}

/**
 * The data paths a rule reads, e.g. ["answers.q1", "vars.os"] (sorted, unique).
 * Validates the rule first (same errors as evaluate). Names computed at run time
 * ({"var": {"cat": [...]}}) cannot be known statically and are not listed, but the
 * variables used to compute them are. {"var": ""} (the whole data) is not listed.
 */
export function variablesUsed(rule) {
  validateRule(rule);
  const out = new Set();
  collect(rule, true, out);
  return [...out].sort();
}
