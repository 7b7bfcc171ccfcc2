// Every case of the cross-language conformance file (outputs of json-logic-js 2.0.5,
// copied from shared/testdata) runs through our guarded `evaluate`. The Python
// suite runs the same file against guided_paths/sansio/expressions.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { evaluate, ExpressionError, ALLOWED_OPERATORS } from "../src/expressions.js";

const require = createRequire(import.meta.url);
const jsonLogic = require("json-logic-js");
const { cases } = JSON.parse(readFileSync(new URL("./fixtures/jsonlogic-conformance-cases.json", import.meta.url), "utf8"));

function operatorsIn(rule, out = new Set()) {
  if (Array.isArray(rule)) rule.forEach((r) => operatorsIn(r, out));
  else if (rule && typeof rule === "object" && Object.keys(rule).length === 1) {
    const op = Object.keys(rule)[0];
    out.add(op);
    operatorsIn(rule[op], out);
  }
  return out;
}

const allowed = new Set(ALLOWED_OPERATORS);
let evaluated = 0;
let refused = 0;

cases.forEach((c, i) => {
  const label = `case ${i}: ${JSON.stringify(c.rule)} with ${JSON.stringify(c.data)}`;
  const refusedOps = [...operatorsIn(c.rule)].filter((op) => !allowed.has(op));
  if (refusedOps.length) {
    test(`${label} is refused (${refusedOps.join(", ")})`, () => {
      refused += 1;
      assert.throws(() => evaluate(c.rule, c.data), (err) => err instanceof ExpressionError && err.code === "unknown_operator" && refusedOps.includes(err.operator));
    });
    return;
  }
  test(label, () => {
    evaluated += 1;
    assert.deepStrictEqual(evaluate(c.rule, c.data), c.expected);
  });
});

test("the fixture really is json-logic-js output (undefined/Infinity shown as null)", () => {
  for (const c of cases) {
    let raw = jsonLogic.apply(c.rule, c.data);
    if (raw === undefined || (typeof raw === "number" && !Number.isFinite(raw))) raw = null;
    assert.deepStrictEqual(raw, c.expected, JSON.stringify(c.rule));
  }
});

test("conformance summary", () => {
  assert.equal(evaluated + refused, cases.length);
  console.log(`conformance: ${evaluated}/${cases.length} cases evaluated equal to json-logic-js, ${refused} refused by the allowlist`);
});
