"""One OpenAPI operation from a route and its declaration (:mod:`.contract`).

What the declaration does not say is inferred from what the route is, so that
every status the server can answer is documented: ``@require`` means 401 and
403, a request body means 400 (malformed), 413, 415 and 422, a query means 422, a
path parameter means 404. Creating operations are linked to the operations on
the item they created (OpenAPI links), which contract testers follow.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from werkzeug.routing import Rule

from ..domain.integers import INT64_MAX
from .contract import Operation, operation_of

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_DESCRIPTIONS = {
    400: "Malformed request (the body is not valid JSON, or nests too deep)",
    401: "Not authenticated: log in, or send an API key as `Authorization: Bearer …`",
    403: "Authenticated but not allowed (an admin is needed, a cookie request lacks its CSRF token…)",
    404: "No such object in this account (or the route's plugin is disabled for it)",
    405: "Method not allowed here",
    409: "Conflicts with the object's current state",
    410: "Gone: it existed but can no longer be used (an expired invite code)",
    413: "The body is too large",
    415: "Wrong Content-Type for the body",
    416: "The requested range is not satisfiable (it starts beyond the end)",
    422: "A parameter or a field of the body is invalid; `field` names it",
    429: "Too many attempts; retry later",
    503: "A backend is unavailable; retry later",
}

# Declared statuses below 400 other than plain success; 101, 204 and 304 have no body.
SUCCESS_DESCRIPTIONS = {101: "Switching Protocols: the WebSocket is open",
                        206: "Part of the content (a Range request)", 304: "Not modified (If-None-Match)"}
NO_BODY = frozenset({101, 204, 304})

# ``<name>``, ``<int:name>``, ``<int(min=1, max=9):name>``.
_PATH_PARAM = re.compile(r"<(?:(?P<conv>[a-z_]+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_BOUND = re.compile(r"\b(min|max)\s*=\s*(\d+)")


def openapi_path(rule: Rule) -> str:
    return _PATH_PARAM.sub(lambda m: "{" + m["name"] + "}", rule.rule)


def path_parameters(rule: Rule) -> list[dict[str, Any]]:
    params = []
    for match in _PATH_PARAM.finditer(rule.rule):
        schema: dict[str, Any] = {"type": "string"}
        if match["conv"] == "int":
            bounds = dict(_BOUND.findall(match["args"] or ""))
            schema = {"type": "integer", "minimum": int(bounds.get("min", 0)),
                      "maximum": int(bounds.get("max", INT64_MAX))}
        elif match["conv"] == "path":
            schema = {"type": "string"}
        elif match["conv"] and rule.map is not None:
            # A converter may say what it matches (e.g. "any segment but these words").
            declared = getattr(rule.map.converters.get(match["conv"]), "openapi_schema", None)
            schema = dict(declared) if declared else schema
        params.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return params


def _content(schema: Any, media_type: str | tuple[str, ...] = "application/json") -> dict[str, Any]:
    media_types = (media_type,) if isinstance(media_type, str) else media_type
    return {kind: {"schema": schema} if schema is not None else {} for kind in media_types}


def _inferred_errors(rule: Rule, view: Callable[..., Any] | None, decl: Operation, method: str) -> set[int]:
    errors = set(decl.errors)
    if getattr(view, "required_role", None):
        errors |= {401, 403}
    takes_body = decl.body is not None or "requestBody" in decl.extra
    if takes_body and method in {"POST", "PUT", "PATCH"}:
        errors |= {400, 413, 415, 422}
    if decl.query is not None:
        errors.add(422)
    if rule.arguments:
        errors.add(404)
    return errors


def build_operation(rule: Rule, method: str, view: Callable[..., Any] | None,
                    legacy: dict[str, Any] | None) -> dict[str, Any]:
    """The OpenAPI operation of ``method`` on ``rule``."""
    decl = operation_of(view)
    several = len((rule.methods or set()) - {"HEAD", "OPTIONS"}) > 1
    op: dict[str, Any] = {"operationId": f"{rule.endpoint}.{method.lower()}" if several else rule.endpoint}
    params = path_parameters(rule)
    if decl is None:  # a route documented the old way (a dict), or not at all
        op.update(legacy or {"summary": "(undocumented)"})
        op["responses"] = {"default": {"description": "Error", "content": _content(ERROR_REF)},
                           "2XX": {"description": "Success", "content": _content(None)}}
        if params:
            op["parameters"] = params
        return op

    op["summary"] = decl.summary
    if decl.description:
        op["description"] = decl.description
    params += [p.document() for p in decl.query or ()]
    if params:
        op["parameters"] = params
    if decl.body is not None:
        op["requestBody"] = {"required": decl.body_required, "content": _content(decl.body, decl.body_media_type)}
    responses: dict[str, Any] = {}
    for status, schema in sorted(decl.responses.items()):
        entry: dict[str, Any] = {"description": SUCCESS_DESCRIPTIONS.get(status) or (
            "Success" if status < 300 else ERROR_DESCRIPTIONS.get(status, ""))}
        if status not in NO_BODY:
            entry["content"] = _content(schema, decl.returns_media_type)
        responses[str(status)] = entry
    for status in sorted(_inferred_errors(rule, view, decl, method)):
        responses.setdefault(str(status), {"$ref": f"#/components/responses/Error{status}"})
    op["responses"] = responses
    if getattr(view, "required_role", None) == "customer_or_agent":
        # A customer who joined with an invite code may call it with their token too.
        op["security"] = [{"apiKey": []}, {"session": []}, {"customerToken": []}]
    op.update(decl.extra)
    return op


def component_schemas(views: Iterable[Callable[..., Any]]) -> dict[str, Any]:
    """``components.schemas`` the views' declarations refer to (``schemas=``); one
    name declared twice must mean one schema."""
    found: dict[str, Any] = {}
    for view in views:
        decl = operation_of(view)
        for name, schema in (decl.schemas if decl else {}).items():
            if found.setdefault(name, schema) != schema:
                raise ValueError(f"component schema {name!r} is declared twice, differently")
    return dict(sorted(found.items()))


def error_responses() -> dict[str, Any]:
    """``components.responses``: one entry per error status, all with the Error schema."""
    return {f"Error{status}": {"description": text, "content": _content(ERROR_REF)}
            for status, text in ERROR_DESCRIPTIONS.items()}


def add_links(paths: dict[str, dict[str, Any]]) -> None:
    """Link each creating operation (``POST /x`` answering 201 with an ``id``) to the
    operations on the item it created (``/x/{param}``), passing the new id."""
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if not created or "id" not in _properties(created):
            continue
        for item_path, item_ops in paths.items():
            match = re.fullmatch(re.escape(path) + r"/\{(\w+)\}", item_path)
            if not match:
                continue
            created.setdefault("links", {}).update({
                _link_name(op["operationId"]): {"operationId": op["operationId"],
                                                "parameters": {match[1]: "$response.body#/id"}}
                for op in item_ops.values()
            })


def _properties(response: dict[str, Any]) -> dict[str, Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema") or {}
    return schema.get("properties", {}) if isinstance(schema, dict) else {}


def _link_name(operation_id: str) -> str:
    return "".join(part.title() for part in re.split(r"[._]", operation_id))
