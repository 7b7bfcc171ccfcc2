"""No input is a 500: the regressions of issue 9, over real HTTP on both backends.

Each case was a 500 before the strict input layer (``domain.strict_json``,
``domain.integers``, ``web.converters``, ``web.json_provider``): integers past 64
bits reaching the database, ``str.isdigit()`` digits that ``int()`` refuses, JSON
bodies too deep or with too many digits for the parser, NaN stored and then written
as bare ``NaN`` (invalid JSON for every standard client).
"""

from __future__ import annotations

import json
import math

import pytest
from flask import Flask, request
from werkzeug.exceptions import NotFound

from guidepath.core.web.converters import Int64Converter
from guidepath.core.domain.strict_json import BadJSON
from guidepath.core.web.json_provider import StrictJSONProvider, StrictJSONRequest

INT64_MAX = 2**63 - 1
DEEP = "[" * 100_000 + "]" * 100_000


def error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()["error"]
    assert set(body) >= {"code", "message", "field"} and body["message"]
    return body


# -- query parameters ------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["9223372036854775808", "2147483648", "1" * 5000, "²", "٣", "-1", " 1", "1_0"])
def test_audit_log_cursor_out_of_range_or_not_ascii_is_422(tenant, cursor):
    err = error(tenant.admin.get("/api/v1/audit-log", params={"cursor": cursor}), 422)
    assert err["field"] == "cursor" and "ASCII digits" in err["message"]


def test_audit_log_cursor_at_the_bound_is_an_empty_page_or_more(tenant):
    # 2**31-1: audit_log.seq is int4 on PostgreSQL; the largest cursor it can compare with.
    response = tenant.admin.get("/api/v1/audit-log", params={"cursor": str(2**31 - 1)})
    assert response.status_code == 200, response.text
    assert response.json()["items"]  # tenant.created at least


@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/devices", "/api/v1/sessions",
                                  "/api/v1/users", "/api/v1/audit-log"])
@pytest.mark.parametrize("limit", ["²", "٣", "1_0", " 5", "+5", "9223372036854775808", "1" * 5000])
def test_limit_takes_ascii_digits_within_range_only(tenant, path, limit):
    err = error(tenant.admin.get(path, params={"limit": limit}), 422)
    assert err["field"] == "limit" and "from 1 to 200" in err["message"]


# -- <int:…> path segments ---------------------------------------------------------------


def _small_path() -> dict:
    return {"schema_version": 1, "id": "int-bounds", "title": "Bounds", "start": "done",
            "steps": {"done": {"type": "end", "outcome": "resolved", "message": "Done."}}}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_guided_path_version_past_int64_is_404_on_every_method(tenant, method):
    created = tenant.admin.post("/api/v1/guided-paths", json=_small_path())
    assert created.status_code == 201, created.text
    base = f"/api/v1/guided-paths/{created.json()['id']}/versions"
    for version in ("9223372036854775808", "1" * 5000, "٣"):
        response = getattr(tenant.admin, method)(f"{base}/{version}", json=_small_path())
        assert error(response, 404)["code"] == "not_found"


def test_the_int_converter_is_bounded_to_signed_64_bits_and_ascii():
    app = Flask(__name__)
    app.url_map.converters["int"] = Int64Converter
    app.add_url_rule("/n/<int:n>", "n", lambda n: str(n))
    app.add_url_rule("/s/<int(signed=True):n>", "s", lambda n: str(n))
    app.add_url_rule("/small/<int(max=99):n>", "small", lambda n: str(n))
    # A sibling rule for other methods: werkzeug checks methods before converters.
    app.add_url_rule("/v/<int:n>", "get_v", lambda n: str(n), methods=["GET"])
    app.add_url_rule("/v/<int:n>", "put_v", lambda n: str(n), methods=["PUT", "DELETE"])
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/n/{INT64_MAX}") == ("n", {"n": INT64_MAX})
    assert urls.match(f"/s/{-(2**63)}") == ("s", {"n": -(2**63)})
    assert urls.match("/small/99") == ("small", {"n": 99})
    assert urls.match(f"/v/{INT64_MAX}", method="PUT") == ("put_v", {"n": INT64_MAX})
    for bad in (f"/n/{INT64_MAX + 1}", f"/s/{-(2**63) - 1}", "/n/٣", "/n/²", "/n/-1", "/n/" + "9" * 5000,
                "/small/100", "/n/09223372036854775808"):
        with pytest.raises(NotFound):
            urls.match(bad)
    for method in ("PUT", "DELETE", "GET"):  # 404, not 405 "use GET"
        with pytest.raises(NotFound):
            urls.match(f"/v/{INT64_MAX + 1}", method=method)


# -- JSON bodies ---------------------------------------------------------------------------

BAD_BODIES = {
    "deep": (DEEP, "json_too_deep", "100000 levels deep"),
    "4301-digit-int": ('{"first_name": ' + "1" * 4301 + "}", "json_number_out_of_range", "4301 digits"),
    "int64-overflow": ('{"first_name": 9223372036854775808}', "json_number_out_of_range", "2^63-1"),
    "nan": ('{"first_name": NaN}', "malformed_json", "NaN"),
    "infinity": ('{"first_name": -Infinity}', "malformed_json", "Infinity"),
    "float-overflow": ('{"first_name": 1e400}', "json_number_out_of_range", "1e400"),
    "lone-surrogate": ('{"first_name": "\\ud800"}', "json_bad_string", "surrogate"),
    "nul": ('{"first_name": "a\\u0000b"}', "json_bad_string", "U+0000"),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
def test_json_bodies_beyond_the_limits_are_400_with_the_error_shape(tenant, case):
    body, code, words = BAD_BODIES[case]
    before = tenant.admin.get("/api/v1/customers").json()["items"]
    err = error(tenant.admin.post("/api/v1/customers", data=body, headers={"Content-Type": "application/json"}), 400)
    assert err["code"] == code and err["field"] == "body"
    assert words in err["message"]
    assert tenant.admin.get("/api/v1/customers").json()["items"] == before


@pytest.mark.parametrize("case", ["deep", "4301-digit-int", "nan"])
@pytest.mark.parametrize("method, path", [("post", "/api/v1/devices"), ("post", "/api/v1/sessions"),
                                          ("patch", "/api/v1/sessions/ses_0"), ("put", "/api/v1/plugins/guided_paths"),
                                          ("post", "/api/v1/api-keys"), ("post", "/api/v1/users")])
def test_every_json_endpoint_uses_the_strict_parser(tenant, case, method, path):
    body, code, _words = BAD_BODIES[case]
    err = error(getattr(tenant.admin, method)(path, data=body, headers={"Content-Type": "application/json"}), 400)
    assert err["code"] == code


def test_login_refuses_a_deep_body_before_authentication(tenant):
    err = error(tenant.client().post("/api/v1/auth/login", data=DEEP, headers={"Content-Type": "application/json"}), 400)
    assert err["code"] == "json_too_deep"


def test_nesting_up_to_the_limit_is_accepted(tenant):
    extra: object = "leaf"
    for _ in range(63):  # the body object is level 1, "extra" levels 2..64
        extra = {"x": extra}
    response = tenant.admin.post("/api/v1/devices", json={"extra": extra})
    assert response.status_code == 201, response.text
    error(tenant.admin.post("/api/v1/devices", json={"extra": {"x": extra}}), 400)


def test_int64_bounds_are_accepted_in_bodies(tenant):
    response = tenant.admin.post("/api/v1/devices", json={"extra": {"hi": INT64_MAX, "lo": -(2**63), "f": 1e308}})
    assert response.status_code == 201, response.text
    assert response.json()["extra"] == {"hi": INT64_MAX, "lo": -(2**63), "f": 1e308}


def test_nan_in_a_device_is_refused_and_the_list_stays_valid_json(tenant):
    err = error(tenant.admin.post("/api/v1/devices", data='{"extra": {"x": NaN}}', headers={"Content-Type": "application/json"}), 400)
    assert err["code"] == "malformed_json"
    listed = tenant.admin.get("/api/v1/devices")
    json.loads(listed.text, parse_constant=pytest.fail)  # RFC 8259: no bare NaN anywhere


def test_a_nan_stored_before_strict_input_is_written_as_null(tenant, guidepath_backend):
    if guidepath_backend != "embedded":
        pytest.skip("PostgreSQL's json type refuses NaN, so only SQLite can hold such a row")
    from guidepath.core.domain.tables import devices

    created = tenant.admin.post("/api/v1/devices", json={"extra": {"x": 1}}).json()
    with tenant.context().begin() as conn:  # as an older release could have stored it
        conn.execute(devices.update().where(devices.c.id == created["id"])
                     .values(extra={"x": float("nan"), "y": [float("-inf"), 2.5]}))
    for path in (f"/api/v1/devices/{created['id']}", "/api/v1/devices"):
        response = tenant.admin.get(path)
        assert response.status_code == 200, response.text
        data = json.loads(response.text, parse_constant=pytest.fail)
        item = data if "extra" in data else next(d for d in data["items"] if d["id"] == created["id"])
        assert item["extra"] == {"x": None, "y": [None, 2.5]}


def test_the_json_provider_writes_rfc_8259_and_reads_strictly():
    app = Flask(__name__)
    app.json = StrictJSONProvider(app)
    app.request_class = StrictJSONRequest
    assert json.loads(app.json.dumps({"a": math.nan, "b": math.inf, "c": 1.5})) == {"a": None, "b": None, "c": 1.5}
    with pytest.raises(ValueError):
        app.json.loads("[NaN]")
    with app.test_request_context("/", method="POST", data=DEEP, content_type="application/json"):
        with pytest.raises(BadJSON, match="levels deep") as refused:
            request.get_json()
    assert refused.value.status == 400 and refused.value.field == "body"


# -- responses ---------------------------------------------------------------------------


def test_204_has_no_content_type(tenant):
    customer = tenant.admin.post("/api/v1/customers", json={"first_name": "Gone"}).json()
    response = tenant.admin.delete(f"/api/v1/customers/{customer['id']}")
    assert response.status_code == 204
    assert "Content-Type" not in response.headers and response.content == b""
