import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import vm from "node:vm";

import {
  evaluate,
  variablesUsed,
  validateRule,
  ExpressionError,
  ALLOWED_OPERATORS,
  MAX_DEPTH,
  MAX_NODES,
} from "../src/expressions.js";

const require = createRequire(import.meta.url);
const limits = JSON.parse(readFileSync(new URL("../src/expression-limits.json", import.meta.url), "utf8"));
const guard = JSON.parse(readFileSync(new URL("./fixtures/expression-guard-cases.json", import.meta.url), "utf8"));

const refusedWith = (code, extra = {}) => (err) => {
  assert.ok(err instanceof ExpressionError, `expected ExpressionError, got ${err}`);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "ExpressionError");
  assert.equal(err.code, code, err.message);
  for (const [k, v] of Object.entries(extra)) assert.deepStrictEqual(err[k], v);
  return true;
};

describe("shared limits file", () => {
  test("constants come from expression-limits.json", () => {
    assert.equal(MAX_DEPTH, 32);
    assert.equal(MAX_NODES, 1000);
    assert.equal(MAX_DEPTH, limits.max_depth);
    assert.equal(MAX_NODES, limits.max_nodes);
    assert.deepStrictEqual([...ALLOWED_OPERATORS], limits.allowed_operators);
    assert.equal(limits.version, 1);
    assert.ok(Object.isFrozen(ALLOWED_OPERATORS));
  });

  test("allowlist = exactly the operators json-logic-js knows, minus method", () => {
    // Read json-logic-js's own operator table and control-flow operators from its source,
    // so an upgrade that adds an operator makes this test fail instead of silently differing.
    const src = readFileSync(require.resolve("json-logic-js"), "utf8");
    const table = src.slice(src.indexOf("var operations = {"), src.indexOf("jsonLogic.is_logic"));
    const fromTable = [...table.matchAll(/^\s*"([^"]+)":\s*function/gm)].map((m) => m[1]);
    const apply = src.slice(src.indexOf("jsonLogic.apply = function"), src.indexOf("jsonLogic.uses_data"));
    const control = [...apply.matchAll(/\bop\s*===?\s*"([^"]+)"/g)].map((m) => m[1]);
    assert.ok(fromTable.length > 20 && control.length >= 10, "json-logic-js source layout changed; update this test");
    const known = new Set([...fromTable, ...control]);
    known.delete("method"); // json-logic-js >= 2 already dropped it; we refuse it either way
    assert.deepStrictEqual([...known].sort(), [...ALLOWED_OPERATORS].sort());
    assert.ok(!ALLOWED_OPERATORS.includes("method"));
    assert.deepStrictEqual(limits.refused_operators, ["method"]);
  });

  test("every allowed operator is accepted by the guard and evaluates", () => {
    for (const op of ALLOWED_OPERATORS) {
      const rule = { [op]: [] };
      assert.doesNotThrow(() => validateRule(rule), op);
    }
  });
});

describe("guard cases (shared with the server)", () => {
  // Independent reference implementation of the definitions in expression-limits.json.
  function measure(value, depth = 1) {
    let nodes = 1;
    let maxDepth = depth;
    const children = Array.isArray(value) ? value : value && typeof value === "object" ? Object.values(value) : [];
    for (const child of children) {
      const m = measure(child, depth + 1);
      nodes += m.nodes;
      maxDepth = Math.max(maxDepth, m.depth);
    }
    return { nodes, depth: maxDepth };
  }

  test("fixture was generated with the current limits", () => {
    assert.deepStrictEqual(guard.limits, { max_depth: MAX_DEPTH, max_nodes: MAX_NODES });
  });

  for (const c of guard.cases) {
    test(c.name, () => {
      assert.deepStrictEqual(measure(c.rule), { nodes: c.nodes, depth: c.depth });
      if (c.error) {
        const extra = c.operator ? { operator: c.operator } : {};
        assert.throws(() => evaluate(c.rule, c.data), refusedWith(c.error, extra));
        assert.throws(() => validateRule(c.rule), refusedWith(c.error, extra));
        assert.throws(() => variablesUsed(c.rule), refusedWith(c.error, extra));
      } else {
        assert.equal(validateRule(c.rule), c.nodes);
        const result = evaluate(c.rule, c.data);
        if ("result" in c) assert.deepStrictEqual(result, c.result);
      }
    });
  }
});

describe("refusals", () => {
  test("unknown operators are refused with an error naming the operator and where it is", () => {
    assert.throws(
      () => evaluate({ if: [true, { "===": [1, { frobnicate: [2] }] }, 0] }),
      (err) => {
        refusedWith("unknown_operator", { operator: "frobnicate", pointer: "/if/1/===/1" })(err);
        assert.match(err.message, /"frobnicate"/);
        assert.match(err.message, /\/if\/1\/===\/1/);
        return true;
      },
    );
  });

  test("method is refused with its own explanation", () => {
    assert.throws(() => evaluate({ method: ["abc", "toUpperCase"] }), (err) => {
      refusedWith("unknown_operator", { operator: "method" })(err);
      assert.match(err.message, /"method"/);
      return true;
    });
  });

  test("Object.prototype names are not operators", () => {
    for (const op of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
      const rule = JSON.parse(`{"${op}": [1]}`);
      assert.throws(() => evaluate(rule), refusedWith("unknown_operator", { operator: op }), op);
    }
  });

  test("nothing is evaluated when any part of the rule is refused", (t) => {
    const log = t.mock.method(console, "log", () => {});
    assert.throws(() => evaluate({ and: [{ log: "side effect" }, { method: [] }] }), refusedWith("unknown_operator"));
    assert.throws(() => evaluate({ and: [{ log: "side effect" }, catOf(MAX_NODES)] }), refusedWith("too_many_nodes"));
    assert.equal(log.mock.callCount(), 0);
    assert.equal(evaluate({ log: "ok" }), "ok"); // log is a standard operator and allowed
    assert.equal(log.mock.callCount(), 1);
  });

  test("limits are checked before operators", () => {
    let rule = { nope: 1 };
    for (let i = 0; i < MAX_DEPTH; i += 1) rule = { "!": rule };
    assert.throws(() => evaluate(rule), refusedWith("too_deep"));
  });

  test("a huge rule is refused quickly, without walking all of it", () => {
    const rule = { cat: new Array(2_000_000).fill("x") };
    const t0 = performance.now();
    assert.throws(() => evaluate(rule), refusedWith("too_many_nodes"));
    assert.ok(performance.now() - t0 < 200, "refusal should not depend on the rule's size");
  });

  test("a very deep rule is refused without overflowing the stack", () => {
    let rule = true;
    for (let i = 0; i < 200_000; i += 1) rule = { "!": rule };
    assert.throws(() => evaluate(rule), refusedWith("too_deep"));
    let arr = 0;
    for (let i = 0; i < 200_000; i += 1) arr = [arr];
    assert.throws(() => variablesUsed(arr), refusedWith("too_deep"));
  });

  test("a cyclic rule is refused (too deep), not looped over", () => {
    const rule = { and: [] };
    rule.and.push(rule);
    assert.throws(() => evaluate(rule), refusedWith("too_deep"));
  });

  test("rules must be plain JSON", () => {
    assert.throws(() => evaluate(undefined), refusedWith("invalid_rule"));
    assert.throws(() => evaluate({ "+": [1, NaN] }), refusedWith("invalid_rule", { pointer: "/+/1" }));
    assert.throws(() => evaluate({ "+": [1, Infinity] }), refusedWith("invalid_rule"));
    assert.throws(() => evaluate({ "==": [new Date(0), 1] }), refusedWith("invalid_rule", { pointer: "/==/0" }));
    assert.throws(() => evaluate({ "==": [() => 1, 1] }), refusedWith("invalid_rule"));
    assert.throws(() => evaluate({ "==": [undefined, 1] }), refusedWith("invalid_rule"));
    assert.throws(() => evaluate({ var: 10n }), refusedWith("invalid_rule"));
    assert.throws(() => evaluate({ var: new Map() }), refusedWith("invalid_rule"));
    assert.throws(() => evaluate({ in: ["a", Object.create({ inherited: 1 })] }), refusedWith("invalid_rule"));
    assert.equal(evaluate(Object.assign(Object.create(null), { "===": [1, 1] })), true);
  });

  test("JSON Pointers escape ~ and /", () => {
    assert.throws(() => evaluate({ if: [true, { "a/b": 1, "c~d": NaN }, 1] }), refusedWith("invalid_rule", { pointer: "/if/1/c~0d" }));
    assert.throws(() => evaluate({ "x/y": 1 }), refusedWith("unknown_operator", { pointer: "" }));
  });
});

function catOf(n) {
  return { cat: new Array(n).fill("x") };
}

describe("evaluation", () => {
  const data = {
    vars: { os: "android", os_version: 14, battery: { percent: 12 } },
    answers: { q_cable: "yes", q_tried: ["restart", "other_cable"] },
  };

  test("Guided Path data model: vars and answers", () => {
    assert.equal(evaluate({ "===": [{ var: "vars.os" }, "android"] }, data), true);
    assert.equal(evaluate({ "<": [{ var: "vars.battery.percent" }, 20] }, data), true);
    assert.equal(evaluate({ in: ["restart", { var: "answers.q_tried" }] }, data), true);
    assert.equal(
      evaluate({ if: [{ "===": [{ var: "answers.q_cable" }, "yes"] }, "step_charger", "step_cable"] }, data),
      "step_charger",
    );
    assert.equal(evaluate({ var: ["answers.q_missing", "default"] }, data), "default");
    assert.deepStrictEqual(evaluate({ missing: ["answers.q_cable", "answers.q_other"] }, data), ["answers.q_other"]);
  });

  test("the data is not modified and need not be copied by the caller", () => {
    const before = JSON.stringify(data);
    evaluate({ map: [{ var: "answers.q_tried" }, { cat: [{ var: "" }, "!"] }] }, data);
    assert.equal(JSON.stringify(data), before);
  });

  test("inherited properties are not data (as on the server)", () => {
    const d = { vars: {}, answers: { list: [1, 2] } };
    assert.equal(evaluate({ var: "answers.constructor" }, d), null);
    assert.equal(evaluate({ var: "answers.toString" }, d), null);
    assert.equal(evaluate({ var: "vars.__proto__" }, d), null);
    assert.equal(evaluate({ var: ["answers.hasOwnProperty", "dflt"] }, d), "dflt");
    assert.deepStrictEqual(evaluate({ missing: ["answers.toString", "answers.valueOf"] }, d), [
      "answers.toString",
      "answers.valueOf",
    ]);
    // an own key named like an inherited one is ordinary data
    assert.equal(evaluate({ var: "answers.__proto__" }, JSON.parse('{"answers": {"__proto__": 5}}')), 5);
    assert.equal(evaluate({ var: "answers.toString" }, { answers: { toString: "x" } }), "x");
    // objects still stringify exactly as in json-logic-js
    assert.equal(evaluate({ cat: ["<", { var: "vars" }, ">"] }, d), "<[object Object]>");
    assert.equal(evaluate({ "==": [{ var: "vars" }, "[object Object]"] }, d), true);
  });

  test("results are JSON values", () => {
    assert.equal(evaluate({ and: [] }), null); // undefined in JS
    assert.equal(evaluate({ min: [] }), null); // Infinity in JS
    assert.equal(evaluate({ "/": [1, 0] }), null); // Infinity
    assert.equal(evaluate({ "+": ["a"] }), null); // NaN
    assert.ok(Object.is(evaluate({ "-": [0] }), 0)); // -0 becomes 0
    assert.deepStrictEqual(evaluate({ var: "vars" }, data), data.vars);
    assert.equal(Object.getPrototypeOf(evaluate({ var: "vars" }, data)), Object.prototype);
    assert.deepStrictEqual(evaluate({ var: "" }, { a: [1, { b: 2 }] }), { a: [1, { b: 2 }] });
  });

  test("data must be plain JSON", () => {
    assert.throws(() => evaluate({ var: "a" }, { a: () => 1 }), refusedWith("invalid_data", { pointer: "/a" }));
    assert.throws(() => evaluate({ var: "a" }, { a: new Date() }), refusedWith("invalid_data"));
    assert.throws(() => evaluate({ var: "a" }, { a: NaN }), refusedWith("invalid_data"));
    const cyclic = { a: {} };
    cyclic.a.self = cyclic;
    assert.throws(() => evaluate({ var: "a" }, cyclic), refusedWith("invalid_data", { pointer: "/a/self" }));
    // undefined members are absent, as in JSON; shared (non-cyclic) references are fine
    assert.equal(evaluate({ var: ["a", 5] }, { a: undefined }), 5);
    const shared = { x: 1 };
    assert.deepStrictEqual(evaluate({ var: "" }, { p: shared, q: shared }), { p: { x: 1 }, q: { x: 1 } });
    // default data is {}
    assert.equal(evaluate({ var: ["a", "none"] }), "none");
  });

  test("rules and data from another realm (another frame) are plain JSON too", () => {
    const other = vm.runInNewContext('({rule: {"===": [{"var": "a.b"}, 1]}, data: {a: {b: 1}}, date: new Date(0)})');
    assert.equal(evaluate(other.rule, other.data), true);
    assert.throws(() => evaluate({ var: "d" }, { d: other.date }), refusedWith("invalid_data"));
  });

  test("errors thrown inside json-logic-js become ExpressionError(evaluation_failed)", () => {
    assert.throws(() => evaluate({ missing_some: [1, null] }), (err) => {
      refusedWith("evaluation_failed")(err);
      assert.ok(err.cause instanceof Error);
      return true;
    });
  });
});

describe("variablesUsed", () => {
  test("lists top-level data paths, sorted and unique", () => {
    const rule = {
      and: [
        { "===": [{ var: "vars.os" }, "ios"] },
        { ">=": [{ var: "vars.os_version" }, 17] },
        { "===": [{ var: "vars.os" }, { var: ["answers.q1", { var: "vars.fallback" }] }] },
      ],
    };
    assert.deepStrictEqual(variablesUsed(rule), ["answers.q1", "vars.fallback", "vars.os", "vars.os_version"]);
  });

  test("unary form, numbers, whole-data and literal data", () => {
    assert.deepStrictEqual(variablesUsed({ var: "a" }), ["a"]);
    assert.deepStrictEqual(variablesUsed({ var: ["a"] }), ["a"]);
    assert.deepStrictEqual(variablesUsed({ var: 1 }), ["1"]);
    assert.deepStrictEqual(variablesUsed({ var: "" }), []);
    assert.deepStrictEqual(variablesUsed({ var: null }), []);
    assert.deepStrictEqual(variablesUsed({ var: [] }), []);
    assert.deepStrictEqual(variablesUsed(7), []);
    assert.deepStrictEqual(variablesUsed({ if: [true, { a: { var: "literal" }, b: 1 }, 2] }), []);
    assert.deepStrictEqual(variablesUsed([{ var: "x" }, { var: "y" }]), ["x", "y"]);
  });

  test("missing and missing_some name variables", () => {
    assert.deepStrictEqual(variablesUsed({ missing: ["b", "a"] }), ["a", "b"]);
    assert.deepStrictEqual(variablesUsed({ missing: [["c", "d"]] }), ["c", "d"]);
    assert.deepStrictEqual(variablesUsed({ missing: "e" }), ["e"]);
    assert.deepStrictEqual(variablesUsed({ missing_some: [1, ["f", "g"]] }), ["f", "g"]);
    assert.deepStrictEqual(variablesUsed({ missing: { merge: [{ var: "h" }] } }), ["h"]);
    assert.deepStrictEqual(variablesUsed({ missing_some: [1, "i"] }), ["i"]);
    assert.deepStrictEqual(variablesUsed({ missing: [["j"], { var: "k" }] }), ["j", "k"]);
  });

  test("variables inside map/filter/reduce/all/some/none item logic read the item, not the data", () => {
    assert.deepStrictEqual(variablesUsed({ map: [{ var: "answers.xs" }, { "*": [{ var: "" }, { var: "k" }] }] }), ["answers.xs"]);
    for (const op of ["filter", "all", "some", "none"]) {
      assert.deepStrictEqual(variablesUsed({ [op]: [{ var: "vars.items" }, { "===": [{ var: "kind" }, "x"] }] }), ["vars.items"], op);
    }
    assert.deepStrictEqual(
      variablesUsed({ reduce: [{ var: "vars.xs" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, { var: "vars.start" }] }),
      ["vars.start", "vars.xs"],
    );
    // arguments after the per-item logic are read at the top scope
    assert.deepStrictEqual(variablesUsed({ map: [{ var: "vars.a" }, { var: "item" }, { var: "vars.b" }] }), ["vars.a", "vars.b"]);
    assert.deepStrictEqual(variablesUsed({ map: { var: "vars.only" } }), ["vars.only"]);
    // nested scoped operations stay in item scope
    assert.deepStrictEqual(
      variablesUsed({ some: [{ var: "vars.groups" }, { some: [{ var: "members" }, { var: "ok" }] }] }),
      ["vars.groups"],
    );
  });

  test("computed names are not listed, but their inputs are", () => {
    assert.deepStrictEqual(variablesUsed({ var: { cat: ["answers.", { var: "vars.step" }] } }), ["vars.step"]);
  });

  test("refuses invalid rules like evaluate", () => {
    assert.throws(() => variablesUsed({ method: [] }), refusedWith("unknown_operator", { operator: "method" }));
  });
});
