"""Property tests of the input layer (hypothesis): the strict JSON parser, its
output side, and bounded integers from text.

The promise under test is the one the web layer relies on: whatever the input,
these functions return a value within the limits or raise their own 4xx error —
never another exception (which would be a 500).
"""

from __future__ import annotations

import json
import math
import re

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidepath.core.domain import strict_json
from guidepath.core.domain.errors import Invalid
from guidepath.core.domain.integers import INT64_MAX, INT64_MIN, parse_int
from guidepath.core.domain.strict_json import MAX_DEPTH, BadJSON, JSONNumberOutOfRange, JSONTooDeep
from guidepath.core.web.api.params import int_param
from guidepath.core.web.converters import at_most


def examples(count: int) -> settings:
    # No example database: the suite must not write into the work tree.
    return settings(max_examples=count, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Text that stresses the depth scan: brackets, quotes and backslashes inside strings.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\\\u/ aé😀\n'), max_size=12)
accepted_strings = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")) | tricky_text
accepted_scalars = (st.none() | st.booleans() | st.integers(INT64_MIN, INT64_MAX)
                    | st.floats(allow_nan=False, allow_infinity=False) | accepted_strings)
accepted_values = st.recursive(
    accepted_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(accepted_strings, inner, max_size=4),
    max_leaves=30,
)


def depth_of(value: object) -> int:
    """Reference depth by recursion (fine for the small generated values)."""
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@examples(300)
@given(value=accepted_values, ensure_ascii=st.booleans())
def test_every_value_within_the_limits_round_trips(value, ensure_ascii):
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    assert strict_json.nesting_depth(text) == depth_of(value)
    assert strict_json.loads(text) == value
    assert strict_json.loads(text.encode("utf-8")) == value


@examples(300)
@given(text=st.text() | tricky_text.map(lambda s: "[" + s + "]") | st.binary().map(lambda b: b.decode("latin-1"))
       | st.text(st.characters(whitelist_categories=["Cs", "Ps", "Pe", "Nd"]), max_size=6).map(json.dumps)
       | st.text(st.characters(whitelist_categories=["Cs", "Nd"]), min_size=1, max_size=3))
def test_any_text_is_parsed_or_refused_with_bad_json(text):
    try:
        value = strict_json.loads(text)
    except BadJSON as exc:
        assert exc.status == 400 and exc.message
        return
    assert value == json.loads(text)  # the strict parser never accepts what json refuses
    json.loads(strict_json.dumps(value), parse_constant=pytest.fail)


@examples(200)
@given(raw=st.binary(max_size=64))
def test_any_bytes_are_parsed_or_refused_with_bad_json(raw):
    try:
        strict_json.loads(raw)
    except BadJSON:
        pass


@examples(200)
@given(number=st.integers(min_value=-(10**40), max_value=10**40) | st.integers())
def test_integers_are_accepted_exactly_within_int64(number):
    if INT64_MIN <= number <= INT64_MAX:
        assert strict_json.loads(f"[{number}]") == [number]
    else:
        with pytest.raises(JSONNumberOutOfRange):
            strict_json.loads(f"[{number}]")


@examples(100)
@given(digits=st.integers(min_value=41, max_value=20_000))  # shorter ones are shown whole
def test_integers_longer_than_python_allows_are_refused_not_a_value_error(digits):
    with pytest.raises(JSONNumberOutOfRange, match=f"{digits} digits"):
        strict_json.loads('{"n": ' + "7" * digits + "}")


@examples(100)
@given(literal=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E309"]),
       where=st.sampled_from(["{}", '{"a": [{}]}', "[1, {}]"]))
def test_non_finite_numbers_are_refused_wherever_they_are(literal, where):
    with pytest.raises(BadJSON):
        strict_json.loads(where.replace("{}", literal, 1))


@examples(200)
@given(depth=st.integers(min_value=1, max_value=5_000), kinds=st.lists(st.booleans(), min_size=1, max_size=8),
       filler=tricky_text.map(json.dumps))
def test_depth_is_measured_without_recursion_and_limited(depth, kinds, filler):
    opens = "".join("[" if kinds[i % len(kinds)] else '{"k":' for i in range(depth))
    closes = "".join("]" if kinds[i % len(kinds)] else "}" for i in reversed(range(depth)))
    text = opens + filler + closes
    assert strict_json.nesting_depth(text) == depth
    if depth > MAX_DEPTH:
        with pytest.raises(JSONTooDeep, match=f"{depth} levels"):
            strict_json.loads(text)
    else:
        assert depth_of(strict_json.loads(text)) == depth


@examples(100)
@given(value=st.recursive(
    st.none() | st.floats() | st.integers(INT64_MIN, INT64_MAX) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=20))
def test_output_is_always_rfc_8259_json(value):
    text = strict_json.dumps(value)
    parsed = json.loads(text, parse_constant=pytest.fail)

    def same(a, b):  # non-finite floats become null, all else is kept
        if isinstance(a, float) and not math.isfinite(a):
            return b is None
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(map(same, a, b))
        return a == b

    assert same(value, parsed)


# -- integers from text -----------------------------------------------------------------

ASCII_INT = re.compile(r"-?[0-9]+")


@examples(400)
@given(raw=st.text(max_size=30) | st.integers().map(str) | st.sampled_from(["²", "٣", "１", "1_0", " 1", "+1", "-0"]),
       bounds=st.tuples(st.integers(INT64_MIN, INT64_MAX), st.integers(INT64_MIN, INT64_MAX)).map(sorted))
def test_parse_int_accepts_ascii_digits_in_range_and_refuses_the_rest_with_422(raw, bounds):
    minimum, maximum = bounds
    try:
        value = parse_int(raw, field="n", minimum=minimum, maximum=maximum)
    except Invalid as exc:
        assert exc.status == 422 and exc.field == "n" and str(minimum) in exc.message
        assert not ASCII_INT.fullmatch(raw) or not minimum <= int(raw) <= maximum
    else:
        assert ASCII_INT.fullmatch(raw) and value == int(raw) and minimum <= value <= maximum


@examples(200)
@given(number=st.integers(min_value=0, max_value=INT64_MAX))
def test_parse_int_reads_every_int64_back(number):
    assert parse_int(str(number), field="n") == number


_app = Flask(__name__)


@examples(200)
@given(raw=st.text(max_size=25))
def test_int_param_answers_a_value_the_default_or_a_422_for_any_query(raw):
    with _app.test_request_context("/", query_string={"cursor": raw}):
        try:
            value = int_param("cursor", default=-1)
        except Invalid as exc:
            assert exc.field == "cursor" and "cursor" in exc.message
        else:
            assert value == (-1 if raw == "" else int(raw))
            assert 0 <= value <= INT64_MAX or value == -1


@examples(300)
@given(bound=st.integers(0, INT64_MAX) | st.sampled_from([0, 9, 10, 99, 100, 2**31 - 1, INT64_MAX]),
       number=st.integers(0, 2**64) | st.sampled_from([0, 9, 10, 99, 100, 101, 2**31, INT64_MAX, INT64_MAX + 1]))
def test_the_int_converters_regex_matches_exactly_zero_to_its_bound(bound, number):
    assert bool(re.fullmatch(at_most(bound), str(number))) == (number <= bound)
