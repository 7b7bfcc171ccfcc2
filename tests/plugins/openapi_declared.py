"""Checking an answer against what ``GET /api/openapi.json`` declares for its route
(imported explicitly by the plugin tests, like ``example_packages``)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def check_declared(openapi: dict[str, Any], method: str, template: str, response) -> None:
    """Fail unless ``response`` is one the document declares for ``method template``:
    its status is listed, with its media type, and a JSON body matches the schema."""
    responses = openapi["paths"][template][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {template} answered {status}, not declared: {sorted(responses)}"
    pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
    declared = responses[status]
    if "$ref" in declared:
        pointer = declared["$ref"].removeprefix("#")
        declared = openapi["components"]["responses"][pointer.rsplit("/", 1)[1]]
    if "content" not in declared:
        assert response.content == b"", f"{method} {template} {status} has a body it does not declare"
        return
    media_type = response.headers.get("Content-Type", "").split(";")[0]
    assert media_type in declared["content"], f"{method} {template} {status}: {media_type} not declared"
    if media_type != "application/json" or "schema" not in declared["content"][media_type]:
        return
    registry = Registry().with_resource("urn:openapi", Resource(contents=openapi, specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:openapi#{pointer}/content/{_escape(media_type)}/schema"},
                                     registry=registry)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not problems, f"{method} {template} {status} does not match its declared schema: {problems[:5]}"
