"""Customers and devices over REST, and what bad input gets."""

import json

import pytest


def _count(tenant, path):
    return len(tenant.admin.get(path, params={"limit": 200}).json()["items"])


def test_customer_crud(tenant):
    admin = tenant.admin
    created = admin.post("/api/v1/customers", json={"email": "ada@example.com", "first_name": "Ada",
                                                    "last_name": "Lovelace", "phone": "+44 20 7946 0001"})
    assert created.status_code == 201
    customer = created.json()
    assert customer["id"].startswith("cus_") and customer["email"] == "ada@example.com"
    assert admin.get(f"/api/v1/customers/{customer['id']}").json() == customer
    patched = admin.patch(f"/api/v1/customers/{customer['id']}", json={"phone": "+44 20 7946 0002"}).json()
    assert patched["phone"] == "+44 20 7946 0002" and patched["first_name"] == "Ada"
    replaced = admin.put(f"/api/v1/customers/{customer['id']}", json={"first_name": "Augusta"}).json()
    assert replaced["first_name"] == "Augusta" and replaced["email"] is None
    assert admin.delete(f"/api/v1/customers/{customer['id']}").status_code == 204
    assert admin.get(f"/api/v1/customers/{customer['id']}").status_code == 404


def test_device_diagnostics_fields(tenant):
    admin = tenant.admin
    customer = admin.post("/api/v1/customers", json={"first_name": "Grace"}).json()
    device = {"customer_id": customer["id"], "manufacturer": "Apple", "brand": "iPhone", "model": "15",
              "os_name": "iOS", "os_version": "18.1", "memory_bytes": 6 * 2**30, "processor": "A16",
              "device_name": "Grace's iPhone", "serial_number": "F2LX9", "extra": {"battery": 87}}
    created = admin.post("/api/v1/devices", json=device)
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in device} == device
    bad_ref = admin.post("/api/v1/devices", json={"customer_id": "cus_missing"})
    assert bad_ref.status_code == 422 and bad_ref.json()["error"]["field"] == "customer_id"


def test_pagination_walks_every_item_once(tenant):
    for i in range(7):
        tenant.admin.post("/api/v1/customers", json={"first_name": f"C{i}"}).raise_for_status()
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = tenant.admin.get("/api/v1/customers", params=params).json()
        seen += [c["first_name"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"C{i}" for i in range(7)]


@pytest.mark.parametrize(
    "body, content_type, status, field",
    [
        ("{not json", "application/json", 400, "body"),
        ("[1, 2]", "application/json", 422, "body"),
        (json.dumps({"first_name": 42}), "application/json", 422, "first_name"),
        (json.dumps({"first_name": "A", "shoe_size": 9}), "application/json", 422, "shoe_size"),
        (json.dumps({"email": "not-an-email"}), "application/json", 422, "email"),
        (json.dumps({"first_name": "A"}), "text/plain", 415, None),
    ],
    ids=["malformed", "not-object", "wrong-type", "unknown-field", "bad-format", "wrong-content-type"],
)
def test_bad_input_is_refused_and_nothing_written(tenant, body, content_type, status, field):
    before = _count(tenant, "/api/v1/customers")
    response = tenant.admin.post("/api/v1/customers", data=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if field:
        assert error["field"] == field
    assert _count(tenant, "/api/v1/customers") == before


def test_oversized_body_is_413(tenant):
    limit = tenant.kernel.config.max_request_bytes
    response = tenant.admin.post("/api/v1/customers", data=b"x" * (limit + 1),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_bad_query_parameters(tenant):
    assert tenant.admin.get("/api/v1/customers", params={"limit": "lots"}).json()["error"]["field"] == "limit"
    assert tenant.admin.get("/api/v1/customers", params={"limit": 0}).status_code == 422
    assert tenant.admin.get("/api/v1/customers", params={"colour": "red"}).json()["error"]["field"] == "colour"
    assert tenant.admin.get("/api/v1/customers", params={"cursor": "%%%"}).status_code == 422


def test_customer_search(tenant):
    admin = tenant.admin
    ada = admin.post("/api/v1/customers", json={"first_name": "Ada", "last_name": "Lovelace",
                                                "email": "ada@example.com", "phone": "+44 20 7946 0958"}).json()
    grace = admin.post("/api/v1/customers", json={"first_name": "Grace", "last_name": "Hopper",
                                                  "email": "grace@navy.example", "phone": "555-0100"}).json()
    odd = admin.post("/api/v1/customers", json={"first_name": "100%_sure"}).json()

    def found(q):
        answer = admin.get("/api/v1/customers", params={"q": q})
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["items"]]

    assert found("ada lovelace") == [ada["id"]]
    assert found("LOVE") == [ada["id"]]
    assert found("navy.example") == [grace["id"]]
    assert found("79460958") == [ada["id"]]          # digits, whatever the spacing
    assert found("555 0100") == [grace["id"]]
    assert found("%_") == [odd["id"]]                 # LIKE wildcards are literal
    assert found("nobody") == []
    assert found("") == [ada["id"], grace["id"], odd["id"]]
    assert admin.get("/api/v1/customers", params={"q": "x" * 201}).json()["error"]["field"] == "q"
