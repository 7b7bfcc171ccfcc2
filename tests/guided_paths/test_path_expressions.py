"""Guided Path expressions: the allowlist, the caps, static analysis, and the
JavaScript semantics beyond the shared conformance cases."""

from __future__ import annotations

import json

import pytest

from guidepath.guided_paths.sansio import ecmascript, expressions
from guidepath.guided_paths.sansio.expressions import (
    ExpressionError,
    analyze_rule,
    check_rule,
    check_template,
    evaluate,
    evaluate_template,
    variables_used,
)

DATA = {"vars": {"os": "ios", "count": 3, "tags": ["a", "b"]}, "answers": {"q1": "yes", "q2": [1, 2]}}


def codes(rule, **kwargs):
    return [problem.code for problem in check_rule(rule, **kwargs)]


# ---- allowlist ---------------------------------------------------------------


def test_method_is_refused_before_anything_is_evaluated():
    with pytest.raises(ExpressionError) as info:
        evaluate({"method": ["abc", "upper"]}, {})
    assert info.value.code == "unknown_operator"
    assert info.value.pointer == "/method"
    assert "method" in str(info.value)


@pytest.mark.parametrize("op", ["Math.abs", "IF", "__class__", "now", "combinations", "eval"])
def test_operators_outside_the_allowlist_are_refused(op):
    with pytest.raises(ExpressionError) as info:
        evaluate({op: [1]}, {})
    assert info.value.code == "unknown_operator"


def test_refused_operator_hidden_deep_in_arguments_is_found():
    rule = {"and": [True, {"if": [True, {"map": [[1], {"method": [{"var": ""}, "x"]}]}, 0]}]}
    assert codes(rule, strict=False) == ["expression.unknown_operator"]


def test_log_is_allowed_and_writes_nothing(capsys):
    assert evaluate({"log": "hello"}, {}) == "hello"
    assert capsys.readouterr() == ("", "")


def test_multi_key_objects_are_data_not_operations():
    rule = {"if": [True, {"a": 1, "b": {"method": [1]}}, 2]}
    assert evaluate(rule, {}) == {"a": 1, "b": {"method": [1]}}
    # ...but a document rule must not contain them (json-logic-js would not evaluate them)
    assert codes(rule) == ["expression.malformed"]


# ---- caps (checked before evaluation, without recursion) ------------------------


def test_depth_cap():
    rule: object = True
    for _ in range(31):
        rule = {"!!": rule}
    assert evaluate(rule, {}) is True  # 32 levels
    with pytest.raises(ExpressionError) as info:
        evaluate({"!!": rule}, {})
    assert info.value.code == "too_deep"


def test_node_cap():
    assert evaluate({"cat": ["x"] * 998}, {}) == "x" * 998  # 1 + 1 + 998 = 1000 nodes
    with pytest.raises(ExpressionError) as info:
        evaluate({"cat": ["x"] * 999}, {})
    assert info.value.code == "too_many_nodes"


def test_hostile_rules_cost_no_stack_and_little_time():
    deep: object = 0
    for _ in range(100_000):
        deep = [deep]
    wide = {"cat": list(range(200_000))}
    assert codes(deep, strict=False) == ["expression.too_deep"]
    assert codes(wide, strict=False) == ["expression.too_many_nodes"]


def test_self_referencing_rule_is_refused_not_looped():
    rule: list = []
    rule.append(rule)
    assert codes(rule, strict=False) == ["expression.too_deep"]


@pytest.mark.parametrize("rule", [{1, 2}, {"var": b"x"}, float("nan"), {"==": [float("inf"), 1]}, {1: 2}, object()])
def test_non_json_rules_are_refused(rule):
    with pytest.raises(ExpressionError) as info:
        evaluate(rule, {})
    assert info.value.code == "invalid_rule"


def test_data_too_deep_is_a_clear_error():
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ExpressionError) as info:
        evaluate({"cat": [{"var": "x"}]}, {"x": deep})
    assert info.value.code == "invalid_data"


# ---- the document linter (strict) ---------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "code", "pointer"),
    [
        ({"var": "os"}, "expression.unknown_root", "/var"),
        ({"var": ["vars"]}, "expression.unknown_root", "/var/0"),
        ({"var": {"cat": ["vars.", "os"]}}, "expression.dynamic_var", "/var"),
        ({"missing": ["vars.os", "user.name"]}, "expression.unknown_root", "/missing/1"),
        ({"==": [1]}, "expression.arity", "/=="),
        ({"!": [1, 2]}, "expression.arity", "/!"),
        ({"reduce": [[1], {"+": [1]}, {"var": "vars.count"}]}, "expression.non_literal_initial", "/reduce/2"),
        ({"and": [True, {"x": 1, "y": 2}]}, "expression.malformed", "/and/1"),
    ],
)
def test_strict_checks(rule, code, pointer):
    problems = check_rule(rule)
    assert [(p.code, p.pointer) for p in problems] == [(code, pointer)]


def test_strict_accepts_the_demo_style():
    rule = {"and": [{"===": [{"var": "answers.q1"}, "yes"]}, {"!==": [{"var": ["vars.os", "android"]}, "ios"]}]}
    assert check_rule(rule) == []


def test_per_item_rules_read_the_item_not_the_run():
    rule = {"some": [{"var": "vars.tags"}, {"===": [{"var": ""}, "b"]}]}
    assert check_rule(rule) == []
    assert evaluate(rule, DATA) is True
    assert variables_used(rule) == {"vars.tags"}
    reduce_rule = {"reduce": [{"var": "answers.q2"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}
    assert check_rule(reduce_rule) == []
    assert evaluate(reduce_rule, DATA) == 3


def test_variables_used_lists_full_paths_including_defaults_and_missing():
    rule = {
        "if": [
            {"missing_some": [1, ["vars.os", "answers.q9"]]},
            {"var": ["vars.device.model", {"var": "vars.fallback"}]},
            {"var": {"cat": ["answers.", {"var": "vars.which"}]}},
        ]
    }
    assert variables_used(rule) == {"vars.os", "answers.q9", "vars.device.model", "vars.fallback", "vars.which"}


def test_references_carry_pointers():
    analysis = analyze_rule({"and": [{"var": "vars.a"}, {"missing": ["vars.b"]}]})
    assert [(r.pointer, r.path, r.root, r.name) for r in analysis.references] == [
        ("/and/0/var", "vars.a", "vars", "a"),
        ("/and/1/missing/0", "vars.b", "vars", "b"),
    ]


# ---- JavaScript semantics beyond the shared cases ---------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"===": [1, True]}, False),
        ({"==": [1, True]}, True),
        ({"===": [1, 1.0]}, True),
        ({"==": [None, 0]}, False),
        ({"==": [[1], 1]}, True),
        ({"==": ["1,2", [1, 2]]}, True),
        ({"in": [1, [True]]}, False),
        ({"in": ["", "abc"]}, True),
        ({"in": ["a", ""]}, False),
        ({"/": [1, 0]}, None),  # Infinity → null, as JSON.stringify does
        ({"/": [0, 0]}, None),
        ({"%": [-7, 3]}, -1),
        ({"%": [7.5, 2]}, 1.5),
        ({"+": ["1e3", "2abc"]}, 1002),
        ({"+": [None, 1]}, None),  # parseFloat(null) is NaN
        ({"*": ["x"]}, "x"),  # reduce without an initial value returns the lone argument
        ({"-": ["5", "2"]}, 3),
        ({"cat": ["a", None, [1, None, 2], True, 0.1, 1e21, 1e-7]}, "a1,,2true0.11e+211e-7"),
        ({"<": ["10", "9"]}, True),  # both strings: compared as text
        ({"<": [10, "9"]}, False),
        ({"<": [1, "x"]}, False),
        ({">=": [1, "x"]}, False),  # NaN is neither greater nor equal
        ({"<=": [None, 0]}, True),
        ({"<": [1, 2, None]}, False),  # a third argument, even null, makes it "between"
        ({"max": [1, "3", None]}, 3),
        ({"max": [1, "x"]}, None),
        ({"substr": ["héllo wörld", -5]}, "wörld"),
        ({"substr": ["😀abc", 2]}, "abc"),  # UTF-16 code units
        ({"substr": [12345, 1, 2]}, "23"),
        ({"!!": ["0"]}, True),
        ({"!!": [[]]}, False),
        ({"!!": [{}]}, True),
        ({"merge": [[1], 2, [[3]]]}, [1, 2, [3]]),
        ({"var": "vars.tags.length"}, 2),
        ({"var": "vars.tags.01"}, None),
        ({"var": "vars.os.0"}, "i"),
        ({"var": ["vars.nope", "dflt"]}, "dflt"),
        ({"missing": ["vars.os", "vars.nope", "answers.q1"]}, ["vars.nope"]),
        ({"if": [False, 1]}, None),
    ],
)
def test_javascript_semantics(rule, expected):
    result = evaluate(rule, DATA)
    assert result == expected and type(result) is type(expected)


def test_null_value_is_not_replaced_by_the_default():
    # json-logic-js returns null for a present-but-null value, the default only when absent
    assert evaluate({"var": ["x", 5]}, {"x": None}) is None
    assert evaluate({"var": ["y", 5]}, {"x": None}) == 5


def test_results_are_json():
    assert evaluate({"map": [[1, 2], {"/": [{"var": ""}, 0]}]}, {}) == [None, None]
    assert evaluate({"-": [0]}, {}) == 0


def test_js_number_to_string():
    cases = {0.5: "0.5", 123.456: "123.456", 1e16: "10000000000000000", 1.5e300: "1.5e+300",
             0.000001: "0.000001", 1e-7: "1e-7", -2.5: "-2.5", 100.0: "100"}
    for number, text in cases.items():
        assert ecmascript.to_string(number) == text


# ---- templates (step inputs) -------------------------------------------------------------


def test_template_evaluates_operations_in_place():
    template = {"device": {"os": {"var": "vars.os"}, "checks": ["battery", {"cat": ["n=", {"var": "vars.count"}]}]},
                "source": "guided-path", "headers": {"X-Trace": "1"}}
    assert evaluate_template(template, DATA) == {
        "device": {"os": "ios", "checks": ["battery", "n=3"]},
        "source": "guided-path",
        "headers": {"X-Trace": "1"},
    }


def test_template_checks_point_into_the_template():
    template = {"a": {"var": "nope"}, "b": [{"method": []}], "c": {"x": {"var": "vars.os"}}}
    problems = {(p.pointer, p.code) for p in check_template(template)}
    assert problems == {("/a/var", "expression.unknown_root")}  # {"method": []} is literal data in a template
    references = expressions.template_references(template)
    assert {(r.pointer, r.path) for r in references} == {("/a/var", "nope"), ("/c/x/var", "vars.os")}


def test_deep_template_is_refused():
    template: object = "x"
    for _ in range(40):
        template = {"k": template}
    assert [p.code for p in check_template(template)] == ["expression.too_deep"]


# ---- the validator's fast path agrees with the full analysis ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["vars.os", "answers.q1", "os", "", "vars", "answers.q1.0", "x"]),
)
_operators = st.sampled_from(sorted(expressions.ALLOWED_OPERATORS) + ["method", "nope"])
rules = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.builds(lambda op, args: {op: args}, _operators, st.one_of(children, st.lists(children, max_size=4))),
        st.dictionaries(st.sampled_from(["a", "b", "var"]), children, max_size=3),
    ),
    max_leaves=30,
)


@settings(max_examples=250, deadline=None, database=None)
@given(rule=rules, depth=st.sampled_from([3, 6, 32]), nodes=st.sampled_from([5, 20, 1000]))
def test_quick_strict_check_agrees_with_analyze_rule(rule, depth, nodes):
    analysis = analyze_rule(rule, max_depth=depth, max_nodes=nodes)
    quick = expressions.quick_strict_check(rule, max_depth=depth, max_nodes=nodes)
    if quick is not None:
        assert analysis.problems == []
        assert sorted(quick) == sorted(r.path for r in analysis.references)
    elif "missing" not in json.dumps(rule, default=str):  # missing/missing_some always take the full path
        assert analysis.problems != []


@settings(max_examples=300, deadline=None, database=None)
@given(rule=rules)
def test_lean_acceptance_agrees_with_analyze_rule(rule):
    assert expressions._acceptable(rule) == (not analyze_rule(rule, strict=False).problems)
