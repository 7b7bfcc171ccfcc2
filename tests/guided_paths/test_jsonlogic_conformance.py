"""Server and browser must agree on every rule.

The cases hold json-logic-js's outputs (``../shared/testdata``). panzi-json-logic
alone differs on four of them (``null == false``, ``"" == 0``, ``min()`` of
nothing, and ``6.0`` for ``6``); our operator table follows ECMAScript, so all
49 must pass here, compared as JSON text (``6`` and ``6.0`` differ there).

The guard cases and the shared limits come from the JS SDK
(``sdk_js/test/fixtures``, ``sdk_js/src/expression-limits.json``): both sides
refuse and accept exactly the same rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from json_logic import jsonLogic as panzi_apply

from guidepath.guided_paths.sansio import expressions

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = ROOT.parent / "shared" / "testdata" / "jsonlogic-conformance-cases.json"
SDK_CASES_FILE = ROOT / "sdk_js" / "test" / "fixtures" / "jsonlogic-conformance-cases.json"
GUARD_FILE = ROOT / "sdk_js" / "test" / "fixtures" / "expression-guard-cases.json"
LIMITS_FILE = ROOT / "sdk_js" / "src" / "expression-limits.json"


def _load_cases() -> list[dict]:
    # The SDK keeps a copy in the repository, so the suite runs without shared/.
    for candidate in (CASES_FILE, SDK_CASES_FILE):
        if candidate.exists():
            return json.loads(candidate.read_text("utf-8"))["cases"]
    pytest.fail(f"conformance cases not found at {CASES_FILE} or {SDK_CASES_FILE}")


CASES = _load_cases()


def _as_json(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def test_all_cases_are_present():
    assert len(CASES) == 49


@pytest.mark.parametrize("case", CASES, ids=[json.dumps(c["rule"])[:60] for c in CASES])
def test_case_matches_json_logic_js(case):
    assert _as_json(expressions.evaluate(case["rule"], case["data"])) == _as_json(case["expected"])


def test_the_wrapper_fixes_exactly_where_panzi_differs():
    """Documents why the operator table exists: panzi alone fails these four."""
    differing = []
    for index, case in enumerate(CASES):
        try:
            result = panzi_apply(case["rule"], case["data"])
        except Exception as exc:  # noqa: BLE001
            result = repr(exc)
        if _as_json(result) != _as_json(case["expected"]):
            differing.append(index)
    assert len(differing) == 4, differing
    for index in differing:
        case = CASES[index]
        assert _as_json(expressions.evaluate(case["rule"], case["data"])) == _as_json(case["expected"])


def _guard_cases() -> list[dict]:
    if not GUARD_FILE.exists():
        return []
    return json.loads(GUARD_FILE.read_text("utf-8"))["cases"]


@pytest.mark.skipif(not GUARD_FILE.exists(), reason="the JS SDK's guard fixtures are not in this checkout")
@pytest.mark.parametrize("case", _guard_cases(), ids=lambda c: c["name"])
def test_guard_case_matches_the_sdk(case):
    problems = expressions.check_rule(case["rule"], strict=False)
    code = problems[0].code.removeprefix("expression.") if problems else None
    assert code == case["error"]
    if case["error"] is None and "result" in case:
        assert _as_json(expressions.evaluate(case["rule"], case["data"])) == _as_json(case["result"])
    if case["error"] is not None:
        with pytest.raises(expressions.ExpressionError) as info:
            expressions.evaluate(case["rule"], case["data"])
        assert info.value.code == case["error"]


@pytest.mark.skipif(not LIMITS_FILE.exists(), reason="the JS SDK is not in this checkout")
def test_limits_and_allowlist_are_the_sdks():
    limits = json.loads(LIMITS_FILE.read_text("utf-8"))
    assert expressions.MAX_RULE_DEPTH == limits["max_depth"]
    assert expressions.MAX_RULE_NODES == limits["max_nodes"]
    assert expressions.ALLOWED_OPERATORS == frozenset(limits["allowed_operators"])
    assert not expressions.ALLOWED_OPERATORS & set(limits["refused_operators"])
