"""Declared operations: one declaration both checks a request and documents it.

A view says what it takes and what it answers with :func:`documented`::

    @bp.get("/api/v1/things")
    @require("agent")
    @documented("List things", query=[*PAGING, Param("kind", {"enum": ["a", "b"]})],
                returns=page_of(THING_SCHEMA))
    def list_things():
        args = query_args()            # {"limit": 50, "cursor": None, "kind": "a"}

* ``query``: the view's query parameters. When declared (even as ``[]``), the
  request's query string is checked *before the view runs*: an unknown parameter,
  a value of the wrong type or out of its bounds is a 422 naming the parameter,
  and :func:`query_args` hands the view the parsed values (defaults filled in).
* ``body``: the JSON Schema of the request body (the view still reads it with
  ``json_body()`` and validates it, usually against the same schema object).
* ``returns``/``status``: the success response's schema and status;
  ``responses`` adds others (``{204: None}``: no body);
  ``returns_media_type``: their media type when it is not JSON (``text/html``
  for a page; several for a download whose type varies).
* ``schemas``: component schemas the declaration's ``$ref``s point at
  (``{"$ref": "#/components/schemas/<name>"}``): a large schema used by many
  operations, or one with ``$defs`` of its own, is written once in the document.
* ``errors``: error statuses the view itself may answer beyond those the
  document infers (401/403 from ``@require``, 400/415/422 from a body, 422 from a
  query, 404 from a path parameter).

:mod:`.openapi` builds ``GET /api/openapi.json`` from these declarations, so the
document and the checks cannot drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, TypeVar

from flask import g, request

from ..domain.errors import Invalid
from ..domain.integers import INT64_MAX, INT64_MIN, parse_int
from ..domain.records import DEFAULT_PAGE, MAX_PAGE
from ..domain.timestamps import parse_timestamp

F = TypeVar("F", bound=Callable[..., Any])

_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


@dataclass(frozen=True)
class Param:
    """A query parameter: its name, JSON Schema, description and whether it is required.

    Types understood: ``integer`` (ASCII digits, ``minimum``/``maximum``, int64 by
    default), ``boolean`` (``true``/``false``/``1``/``0``), ``string`` (``enum``,
    ``maxLength``, ``format: date-time``: an ISO-8601 timestamp, UTC if no zone).
    """

    name: str
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False

    def parse(self, raw: str) -> Any:
        kind = self.schema.get("type", "string")
        if kind == "integer":
            return parse_int(raw, field=self.name, minimum=self.schema.get("minimum", INT64_MIN),
                             maximum=self.schema.get("maximum", INT64_MAX))
        if kind == "boolean":
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
            raise Invalid(f"{self.name} must be true or false", field=self.name)
        if "enum" in self.schema and raw not in self.schema["enum"]:
            allowed = ", ".join(map(str, self.schema["enum"]))
            raise Invalid(f"{self.name} must be one of: {allowed}", field=self.name)
        limit = self.schema.get("maxLength")
        if limit is not None and len(raw) > limit:
            raise Invalid(f"{self.name} may be at most {limit} characters", field=self.name)
        if self.schema.get("format") == "date-time":
            return parse_timestamp(raw, field=self.name)
        return raw

    @property
    def accepts_empty(self) -> bool:
        """Whether ``?name=`` is a valid (empty) value rather than a malformed one."""
        return self.schema.get("type") == "string" and not (
            {"enum", "const", "format", "minLength", "pattern"} & set(self.schema))

    def document(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "in": "query", "required": self.required,
                                "schema": dict(self.schema)}
        if self.description:
            spec["description"] = self.description
        return spec


LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
              "How many items a page holds.")
CURSOR = Param("cursor", {"type": "string", "maxLength": 200},
               "The `next` value of the previous page; absent for the first page.")
#: ``?limit=&cursor=`` of every paginated list.
PAGING: tuple[Param, ...] = (LIMIT, CURSOR)


def page_of(item_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema of a page of a list: ``{"items": [...], "next": cursor-or-null}``."""
    return {"type": "object", "required": ["items", "next"], "properties": {
        "items": {"type": "array", "items": dict(item_schema)},
        "next": {"type": ["string", "null"], "description": "Pass as ?cursor= for the next page."},
    }}


@dataclass(frozen=True)
class Operation:
    """What a view declares about itself (see the module docstring)."""

    summary: str
    description: str = ""
    query: tuple[Param, ...] | None = None
    body: Mapping[str, Any] | None = None
    body_required: bool = True
    body_media_type: str = "application/json"
    responses: Mapping[int, Any] = field(default_factory=dict)
    returns_media_type: tuple[str, ...] = ("application/json",)
    errors: tuple[int, ...] = ()
    schemas: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def parse_query(self, args: Mapping[str, str]) -> dict[str, Any]:
        declared = {p.name: p for p in self.query or ()}
        unknown = sorted(set(args) - set(declared))
        if unknown:
            allowed = ", ".join(sorted(declared)) or "none"
            raise Invalid(f"unknown query parameter {unknown[0]!r}; allowed: {allowed}", field=unknown[0])
        values: dict[str, Any] = {}
        for name, param in declared.items():
            raw = args.get(name)
            # An empty value counts as absent only where "" is a valid value of the
            # parameter (a plain string); ?limit= or ?since= is a 422 like any bad value.
            if raw is None or (raw == "" and param.accepts_empty):
                if param.required:
                    raise Invalid(f"{name} is required", field=name)
                values[name] = param.schema.get("default")
            else:
                values[name] = param.parse(raw)
        return values


def documented(
    summary: str,
    *,
    description: str = "",
    query: Iterable[Param] | None = None,
    body: Mapping[str, Any] | None = None,
    body_required: bool = True,
    body_media_type: str = "application/json",
    returns: Any = None,
    status: int = 200,
    responses: Mapping[int, Any] | None = None,
    returns_media_type: str | Iterable[str] = "application/json",
    errors: Iterable[int] = (),
    schemas: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Callable[[F], F]:
    """Declare a view's operation: checked on each request, and documented.

    ``returns`` is the success body's JSON Schema (``None`` for a body the
    document does not describe); ``responses`` maps further statuses to schemas
    (``None``: no body, as for 204). ``returns_media_type`` is the media type (or
    types) of those bodies when not JSON; inferred error responses stay JSON.
    ``schemas`` are component schemas (``{name: schema}``) the declaration refers
    to with ``$ref``. ``extra`` goes into the OpenAPI operation as it is
    (``security=[]`` for a public route, a ``requestBody`` of several media types…).
    """
    answers = {status: returns, **(responses or {})}
    media_types = (returns_media_type,) if isinstance(returns_media_type, str) else tuple(returns_media_type)
    operation = Operation(
        summary=summary, description=description,
        query=tuple(query) if query is not None else None,
        body=body, body_required=body_required, body_media_type=body_media_type,
        responses=answers, returns_media_type=media_types, errors=tuple(errors),
        schemas=dict(schemas or {}), extra=extra,
    )

    def mark(view: F) -> F:
        if operation.query is None:
            view.operation = operation  # type: ignore[attr-defined]
            return view

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            g.guidepath_query = operation.parse_query(request.args)
            return view(*args, **kwargs)

        checked.operation = operation  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return mark


def page(summary: str, *, query: Iterable[Param] = (), description: str = "") -> Callable[[F], F]:
    """Declare a browser page (the console's, a plugin's screen).

    Its query string is checked like an operation's (unknown or bad parameters are
    refused), but a page is not part of the REST API: the OpenAPI document leaves
    it out, and it answers HTML.
    """
    return documented(summary, description=description, query=query, returns_media_type="text/html",
                      **{PAGE_MARK: True})


#: The ``extra`` key that marks a :func:`page` (an OpenAPI extension name, should it leak).
PAGE_MARK = "x-page"


def is_page(view: Callable[..., Any] | None) -> bool:
    operation = operation_of(view)
    return operation is not None and bool(operation.extra.get(PAGE_MARK))


def query_args() -> dict[str, Any]:
    """The request's query parameters as the view declared them: parsed, defaults in."""
    try:
        return g.guidepath_query
    except AttributeError:
        raise RuntimeError("query_args() needs @documented(query=[...]) on the view") from None


def operation_of(view: Callable[..., Any] | None) -> Operation | None:
    return getattr(view, "operation", None)
