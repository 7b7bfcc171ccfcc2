"""Guided Path media over real HTTP, on both backends: admins upload images and
videos (streamed, encrypted in the tenant's file store, type- and size-checked),
agents read them, other tenants get 404, and message steps may only show media
that exist — checked when publishing and shown in the run's view."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from guidepath.guided_paths.tables import guided_path_media

from fixtures_api import PATHS, RUNS, error, published

MEDIA = f"{PATHS}/media"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000


def upload(client, body: bytes, content_type: str = "image/png", **params):
    return client.post(MEDIA, data=body, headers={"Content-Type": content_type}, params=params)


def stored(tenant) -> tuple[list, list]:
    """The media rows and the ids of the files in the tenant's file store."""
    ctx = tenant.context()
    with ctx.engine.connect() as conn:
        rows = [r.file_id for r in conn.execute(select(guided_path_media)).all()]
    return sorted(rows), sorted(info.id for info in ctx.files.list())


def message_path(file_id: str, key: str = "see-the-port") -> dict:
    return {
        "schema_version": 1, "id": key, "title": "Where is the port?", "start": "look",
        "steps": {
            "look": {"type": "message", "text": "The port is on the bottom edge.",
                     "media": [{"file_id": file_id, "alt": "The bottom edge of the phone"}], "next": "done"},
            "done": {"type": "end", "outcome": "resolved"},
        },
    }


def test_upload_download_and_show_in_a_run(tenant):
    admin = tenant.admin
    response = upload(admin, PNG, name="port.png")
    assert response.status_code == 201, response.text
    media = response.json()
    assert media["file_id"].startswith("fil_") and media["content_type"] == "image/png"
    assert media["size"] == len(PNG) and media["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert response.headers["Location"] == media["url"] == f"{MEDIA}/{media['file_id']}"

    agent = tenant.client().with_api_key(admin.new_api_key(role="agent"))
    got = agent.get(media["url"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["Content-Type"] == "image/png" and got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert tenant.client().get(media["url"]).status_code == 401

    published(admin, message_path(media["file_id"]))
    run = admin.post(RUNS, json={"path_key": "see-the-port"}).json()
    assert run["view"]["media"] == [{"file_id": media["file_id"], "alt": "The bottom edge of the phone",
                                     "content_type": "image/png", "url": media["url"]}]


def test_videos_stream_through(tenant):
    response = upload(tenant.admin, MP4, "video/mp4")
    assert response.status_code == 201, response.text
    assert tenant.admin.get(response.json()["url"]).content == MP4


@pytest.mark.parametrize("body, content_type, status, code, words", [
    (b"<svg onload='alert(1)'/>", "image/svg+xml", 415, "unsupported_media_type", "image/png"),
    (b"<html></html>", "text/html", 415, "unsupported_media_type", "not 'text/html'"),
    (b"GIF89a-not-a-png-at-all", "image/png", 422, "invalid", "not a image/png file"),
    (b"", "image/png", 422, "invalid", "empty"),
    (b"\x89PNG", "image/png", 422, "invalid", "not a image/png file"),
])
def test_bad_uploads_are_refused_and_leave_nothing(tenant, body, content_type, status, code, words):
    before = stored(tenant)
    found = error(upload(tenant.admin, body, content_type), status)
    assert found["code"] == code and words in found["message"], found
    assert stored(tenant) == before


def test_uploads_are_size_limited_while_streaming(tenant, enable_plugin):
    enable_plugin(tenant, "guided_paths", {"max_media_bytes": 4096})
    before = stored(tenant)
    big = PNG + b"\x00" * 8192
    found = error(upload(tenant.admin, big), 413)
    assert found["code"] == "too_large" and "4096" in found["message"]

    def chunks():  # no Content-Length: the limit is enforced on the stream itself
        yield big[:3000]
        yield big[3000:]

    chunked = tenant.admin.post(MEDIA, data=chunks(), headers={"Content-Type": "image/png"})
    assert chunked.status_code == 413, chunked.text
    assert stored(tenant) == before
    # Bigger than the app-wide JSON request limit (1 MiB), within the tenant's setting.
    enable_plugin(tenant, "guided_paths", {"max_media_bytes": 3 * 1024 * 1024})
    large = PNG + b"\x00" * (2 * 1024 * 1024)
    response = upload(tenant.admin, large)
    assert response.status_code == 201, response.text
    assert tenant.admin.get(response.json()["url"]).content == large


def test_only_admins_upload(tenant):
    agent = tenant.client().with_api_key(tenant.admin.new_api_key(role="agent"))
    assert error(upload(agent, PNG), 403)["code"] == "forbidden"
    assert error(upload(tenant.admin, PNG, surprise="1"), 422)["field"] == "surprise"


def test_another_tenant_cannot_read_the_media(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    media = upload(a.admin, PNG).json()
    assert error(b.admin.get(media["url"]), 404)["code"] == "not_found"
    assert b.client().get(media["url"], headers={"Host": b.host}).status_code == 401
    # Nor publish a path showing it.
    refused = error(b.admin.post(f"{PATHS}/import", params={"publish": "true"},
                                 json=message_path(media["file_id"])), 422)
    assert refused["issues"][0]["code"] == "message.unknown_media"


def test_only_guided_path_media_are_served(tenant):
    """Other files of the tenant (recordings, exports) are not reachable here."""
    info = tenant.context().files.put([PNG], name="recording", content_type="image/png")
    assert error(tenant.admin.get(f"{MEDIA}/{info.id}"), 404)["code"] == "not_found"
    assert error(tenant.admin.get(f"{MEDIA}/../../etc"), 404)
    assert error(tenant.admin.get(f"{MEDIA}/fil_nope"), 404)["field"] == "file_id"


def test_publishing_needs_the_media_to_exist(tenant):
    admin = tenant.admin
    missing = "fil_" + "A" * 43
    draft = admin.post(PATHS, json=message_path(missing)).json()
    assert [(i["pointer"], i["code"]) for i in draft["issues"]] == [("/steps/look/media/0/file_id",
                                                                     "message.unknown_media")]
    refused = error(admin.post(f"{PATHS}/{draft['id']}/publish"), 422)
    assert refused["issues"][0]["code"] == "message.unknown_media"
    media = upload(admin, PNG).json()
    assert admin.put(f"{PATHS}/{draft['id']}", json=message_path(media["file_id"])).status_code == 200
    assert admin.post(f"{PATHS}/{draft['id']}/publish").status_code == 201


def test_media_are_listed_page_by_page(tenant):
    admin = tenant.admin
    uploaded = sorted(upload(admin, PNG).json()["file_id"] for _ in range(3))
    agent = tenant.client().with_api_key(admin.new_api_key(role="agent"))
    first = agent.get(MEDIA, params={"limit": 2}).json()
    assert [m["file_id"] for m in first["items"]] == uploaded[:2] and first["next"]
    assert first["items"][0]["url"] == f"{MEDIA}/{uploaded[0]}" and first["items"][0]["size"] == len(PNG)
    rest = agent.get(MEDIA, params={"limit": 2, "cursor": first["next"]}).json()
    assert [m["file_id"] for m in rest["items"]] == uploaded[2:] and rest["next"] is None
    assert error(agent.get(MEDIA, params={"cursor": "bm90LW91cnM"}), 422)["field"] == "cursor"
    assert error(agent.get(MEDIA, params={"sort": "size"}), 422)["field"] == "sort"


def test_unused_media_are_deleted_with_their_file_and_audited(tenant):
    admin = tenant.admin
    media = upload(admin, PNG).json()
    agent = tenant.client().with_api_key(admin.new_api_key(role="agent"))
    assert error(agent.delete(media["url"]), 403)["code"] == "forbidden"
    assert stored(tenant) == ([media["file_id"]], [media["file_id"]])
    assert admin.delete(media["url"]).status_code == 204
    assert stored(tenant) == ([], [])
    assert error(admin.get(media["url"]), 404)["code"] == "not_found"
    assert error(admin.delete(media["url"]), 404)["code"] == "not_found"
    entries = admin.get("/api/v1/audit-log").json()["items"]
    assert any(e["action"] == "guided_path_media.deleted" and e["target"] == media["file_id"] for e in entries)


def test_media_a_path_shows_cannot_be_deleted(tenant):
    admin = tenant.admin
    shown, drafted = upload(admin, PNG).json(), upload(admin, PNG).json()
    published(admin, message_path(shown["file_id"]))
    assert admin.post(PATHS, json=message_path(drafted["file_id"], key="draft-only")).status_code == 201
    before = stored(tenant)
    refused = error(admin.delete(shown["url"]), 409)
    assert refused["code"] == "media_in_use" and refused["field"] == "file_id"
    assert "see-the-port draft, see-the-port v1" in refused["message"]
    assert "draft-only draft" in error(admin.delete(drafted["url"]), 409)["message"]
    assert stored(tenant) == before
    assert admin.get(shown["url"]).content == PNG


def test_another_tenant_cannot_list_or_delete_the_media(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    media = upload(a.admin, PNG).json()
    assert b.admin.get(MEDIA).json() == {"items": [], "next": None}
    assert error(b.admin.delete(media["url"]), 404)["code"] == "not_found"
    assert stored(a) == ([media["file_id"]], [media["file_id"]])


def test_videos_can_be_seeked_with_range_requests_and_revalidated(tenant):
    media = upload(tenant.admin, MP4, "video/mp4").json()
    admin = tenant.admin
    part = admin.get(media["url"], headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == MP4[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(MP4)}"
    assert part.headers["Content-Length"] == "1000" and part.headers["Accept-Ranges"] == "bytes"
    tail = admin.get(media["url"], headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == MP4[-16:]
    beyond = admin.get(media["url"], headers={"Range": f"bytes={len(MP4) + 10}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(MP4)}"
    whole = admin.get(media["url"])
    assert whole.status_code == 200 and whole.content == MP4 and whole.headers["Accept-Ranges"] == "bytes"
    cached = admin.get(media["url"], headers={"If-None-Match": whole.headers["ETag"]})
    assert cached.status_code == 304 and cached.content == b""
