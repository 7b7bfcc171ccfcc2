"""What the Guided Paths API answers, as JSON Schemas for its ``@documented`` views.

The request schemas live beside the rules that use them (``run_store.START_SCHEMA``…);
this module holds the response shapes and the document schema as the OpenAPI
document carries it.

The Guided Path document schema (``guided-path.v1.json``) has an ``$id`` and
``$defs`` that it refers to as ``#/$defs/…``. Embedded in an OpenAPI document those
references would resolve against the OpenAPI document's root, where there are no
``$defs`` (openapi-spec-validator refuses it), so :data:`DOCUMENT_COMPONENTS` is
the same schema split into ``components.schemas``: the root as
``GuidedPathDocument`` and each ``$defs`` entry as ``GuidedPath<Name>``, with the
references rewritten to match. Operations point at :data:`DOCUMENT_REF` and
declare the components with ``schemas=DOCUMENT_COMPONENTS``. The server still
validates documents against the published schema itself.
"""

from __future__ import annotations

from typing import Any, get_args

from ..sansio.document_schema import DOCUMENT_SCHEMA_ID, document_schema
from ..sansio.run_state import RUN_STATUSES, HistoryEvent
from ..tables import MAX_VERSION, PATH_STATUSES, RUN_MODES

_COMPONENTS = "#/components/schemas/"
DOCUMENT_COMPONENT = "GuidedPathDocument"


def _component_name(definition: str) -> str:
    return "GuidedPath" + "".join(part.title() for part in definition.split("_"))


def _components() -> dict[str, Any]:
    schema = document_schema()
    definitions = schema.pop("$defs")
    # $id would make the rewritten references resolve against the schema's own URI.
    schema.pop("$id")
    schema.pop("$schema")
    names = {name: _component_name(name) for name in definitions}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node = {**node, "$ref": _COMPONENTS + names[ref.removeprefix("#/$defs/")]}
            return {key: rewrite(value) if key != "$ref" else value for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    schema["description"] += f" Published as {DOCUMENT_SCHEMA_ID} (GET /api/v1/guided-paths/schema)."
    return {DOCUMENT_COMPONENT: rewrite(schema),
            **{names[name]: rewrite(definition) for name, definition in definitions.items()}}


#: The document schema as ``components.schemas`` (see the module docstring).
DOCUMENT_COMPONENTS: dict[str, Any] = _components()
#: A Guided Path document, by reference.
DOCUMENT_REF = {"$ref": _COMPONENTS + DOCUMENT_COMPONENT}

_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_PATH_ID = {"type": "string", "pattern": "^gp_[0-9a-z]{26}$"}
_KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$", "description": "The document's id"}
_VERSION = {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}
_ACTOR = {"type": ["string", "null"], "description": "Who did it: user:<id>, api_key:<id>, plugin:<name>"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(properties) if required is None else required,
            "properties": properties}


ISSUE = _object({
    "pointer": {"type": "string", "description": "JSON Pointer into the document"},
    "code": {"type": "string"},
    "message": {"type": "string"},
})

PATH_SUMMARY = _object({
    "id": _PATH_ID,
    "key": _KEY,
    "title": {"type": "string", "description": "In the document's default locale"},
    "status": {"enum": list(PATH_STATUSES)},
    "latest_version": {**_VERSION, "type": ["integer", "null"], "description": "null until published"},
    "draft_updated_at": _TIME,
    "created_at": _TIME,
    "updated_at": _TIME,
})

_DRAFT = {
    "draft": {**DOCUMENT_REF, "description": "The editable draft"},
    "draft_changed": {"type": "boolean", "description": "Whether the draft differs from the latest version"},
}
_ISSUES = {"type": "array", "items": ISSUE,
           "description": "What publishing the draft now would refuse (editing work in progress)"}

#: A path with its draft (archive, restore).
PATH_DETAIL = _object({**PATH_SUMMARY["properties"], **_DRAFT})
#: A path with its draft and the draft's issues (get, create, replace, patch).
PATH_WITH_ISSUES = _object({**PATH_DETAIL["properties"], "issues": _ISSUES})

IMPORTED = _object({
    **PATH_WITH_ISSUES["properties"],
    "created": {"type": "boolean", "description": "true: a new path (201); false: its draft was replaced (200)"},
    "published_version": {**_VERSION, "type": ["integer", "null"],
                          "description": "The published version with ?publish=true, else null"},
})

VERSION_SUMMARY = _object({
    "path_id": _PATH_ID,
    "key": _KEY,
    "version": _VERSION,
    "title": {"type": "string"},
    "published_at": _TIME,
    "published_by": _ACTOR,
})
VERSION = _object({**VERSION_SUMMARY["properties"], "document": DOCUMENT_REF})

JSON_SCHEMA = {"type": "object", "description": f"A JSON Schema (2020-12): {DOCUMENT_SCHEMA_ID}"}

# -- runs ------------------------------------------------------------------------------

RUN_SUMMARY = _object({
    "id": {"type": "string", "pattern": "^run_[0-9a-z]{26}$"},
    "path_id": _PATH_ID,
    "path_key": _KEY,
    "version": {**_VERSION, "description": "The published version the run is pinned to"},
    "session_id": {"type": ["string", "null"]},
    "customer_id": {"type": ["string", "null"]},
    "mode": {"enum": list(RUN_MODES)},
    "status": {"enum": list(RUN_STATUSES)},
    "outcome": {"type": ["string", "null"], "description": "resolved, unresolved or escalate once completed"},
    "locale": {"type": ["string", "null"]},
    "current_step": {"type": ["string", "null"]},
    "current_path_key": {"type": ["string", "null"], "description": "The path owning the current step "
                         "(a subpath's key inside one); null once finished"},
    "started_by": _ACTOR,
    "created_at": _TIME,
    "updated_at": _TIME,
    "completed_at": _TIME_OR_NULL,
    "handed_over_at": _TIME_OR_NULL,
})

VIEW = {
    "type": ["object", "null"],
    "description": "The step the run shows now, rendered in the run's locale (null once abandoned). "
                   "`type` decides the other fields: a message's `text` and `media` (with `url`), a "
                   "question's `kind` and `options`, an action's `action` and `input`, an app step's "
                   "`app` (where to embed it) or `app_error`, an end's `outcome` and `message`.",
    "required": ["step_id", "type"],
    "properties": {
        "step_id": {"type": "string"},
        "path_key": {"type": ["string", "null"]},
        "type": {"type": "string"},
        "title": {"type": ["string", "null"]},
    },
}

HISTORY_ENTRY = _object({
    "seq": {"type": "integer", "minimum": 0},
    "path_key": {"type": ["string", "null"]},
    "step_id": {"type": ["string", "null"]},
    "event": {"enum": [*get_args(HistoryEvent), "handed_over"],
              "description": "handed_over: the run was attached to a support session (`value.session_id`)"},
    "at": _TIME,
    "value": {"description": "The answer or result, when the event has one"},
})

_RUN_STATE = {
    "variables": {"type": "object"},
    "answers": {"type": "object", "description": "{step_id: answer}"},
    "can_go_back": {"type": "boolean"},
    "view": VIEW,
}
#: A run as the transitions answer it (history included).
RUN = _object({**RUN_SUMMARY["properties"],
               "path_title": {"type": ["string", "null"],
                              "description": "The path's title in the run's locale, from the pinned version"},
               **_RUN_STATE, "history": {"type": "array", "items": HISTORY_ENTRY}})

# -- media -----------------------------------------------------------------------------

MEDIA = _object({
    "file_id": {"type": "string", "pattern": "^fil_[A-Za-z0-9_-]{43}$"},
    "content_type": {"type": "string"},
    "size": {"type": "integer", "minimum": 1},
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "created_by": _ACTOR,
    "created_at": _TIME,
    "url": {"type": "string", "description": "Where to download it"},
})

BINARY = {"type": "string", "format": "binary"}
HTML = {"type": "string", "description": "An HTML page"}
