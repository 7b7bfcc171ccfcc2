"""Canned responses: agents read and search them; admins write them, audited."""

from __future__ import annotations

from console_support import agent

PATH = "/api/v1/canned-responses"


def _create(client, **body):
    data = {"title": "Restart the router", "shortcut": "/reset", "body": "Unplug it for 30 seconds.", **body}
    return client.post(PATH, json=data)


def test_admins_write_agents_read_and_search(tenant):
    created = _create(tenant.admin)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["id"].startswith("can_") and item["shortcut"] == "/reset" and item["created_by"].startswith("user:")
    _create(tenant.admin, title="Greeting", shortcut="/hi", body="Hello, how can I help?").raise_for_status()
    grace, _ = agent(tenant)
    assert [c["shortcut"] for c in grace.get(PATH).json()["items"]] == ["/reset", "/hi"]
    assert [c["shortcut"] for c in grace.get(PATH, params={"q": "HELP"}).json()["items"]] == ["/hi"]
    assert [c["shortcut"] for c in grace.get(PATH, params={"q": "/res"}).json()["items"]] == ["/reset"]
    assert grace.get(f"{PATH}/{item['id']}").json()["title"] == "Restart the router"
    assert _create(grace, shortcut="/mine").status_code == 403
    assert grace.patch(f"{PATH}/{item['id']}", json={"title": "x"}).status_code == 403
    assert grace.delete(f"{PATH}/{item['id']}").status_code == 403


def test_update_replace_delete_and_audit(tenant):
    admin = tenant.admin
    item = _create(admin).json()
    patched = admin.patch(f"{PATH}/{item['id']}", json={"title": "Restart your router"}).json()
    assert patched["title"] == "Restart your router" and patched["body"] == item["body"]
    replaced = admin.put(f"{PATH}/{item['id']}", json={"title": "T", "shortcut": "/r", "body": "B"}).json()
    assert (replaced["title"], replaced["shortcut"], replaced["body"]) == ("T", "/r", "B")
    assert admin.put(f"{PATH}/{item['id']}", json={"title": "T"}).status_code == 422
    assert admin.delete(f"{PATH}/{item['id']}").status_code == 204
    assert admin.get(f"{PATH}/{item['id']}").status_code == 404
    actions = [e["action"] for e in admin.get("/api/v1/audit-log").json()["items"]]
    assert actions[:4] == ["canned_response.deleted", "canned_response.updated", "canned_response.updated",
                           "canned_response.created"]


def test_shortcuts_are_unique_and_validated(tenant):
    admin = tenant.admin
    first = _create(admin).json()
    dup = _create(admin)
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "shortcut_taken"
    other = _create(admin, shortcut="/other").json()
    clash = admin.patch(f"{PATH}/{other['id']}", json={"shortcut": "/reset"})
    assert clash.status_code == 409
    assert admin.patch(f"{PATH}/{first['id']}", json={"shortcut": "/reset"}).status_code == 200  # its own
    for body, field in (({"shortcut": "reset"}, "shortcut"), ({"shortcut": "/Reset"}, "shortcut"),
                        ({"shortcut": "/" + "a" * 30}, "shortcut"), ({"title": "x" * 101}, "title"),
                        ({"body": "x" * 4001}, "body"), ({"title": "  "}, "title")):
        response = _create(admin, **body)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, (body, response.text)
