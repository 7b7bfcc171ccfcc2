"""Schemathesis hooks for the contract test (loaded by the CLI through
``SCHEMATHESIS_HOOKS``; not a test module).

Failures of one kind are dropped, and only those: a *schema-valid* request refused
with 422 for a rule JSON Schema cannot state — Schemathesis' own guidance for ST202
("Schema-valid request rejected") is to allow such rejections. These rules qualify:

* an id that does not exist in the tenant (``customer_id``, ``device_id``,
  ``agent_id``, ``session_id``, ``path_id``, …): no schema can say "this string names
  an existing row";
* a ``?cursor=`` that is not one the API returned: cursors are opaque tokens the
  server issues;
* a Guided Path document that is well-formed but breaks the rules checked after the
  schema — every issue of the ``invalid_document`` answer is a graph, expression,
  text, variable, step or size rule (``graph.unknown_target``, …), none a
  ``schema.*`` issue. One ``schema.*`` issue means the server's schema and the
  document's disagree, and that still fails;
* a plugin's settings refused by *that plugin's* schema (``PUT /plugins/{name}``):
  the body's schema depends on the plugin the path names, which OpenAPI cannot tie
  to a path parameter's value (each plugin's schema is in ``GET /plugins``);
* an event-type pattern that matches no registered event type (``unknown_event_type``,
  webhooks): the types are whatever the installed plugins register;
* a webhook endpoint refused for where its host resolves (``url_refused``: a private
  or loopback address, or a name that does not resolve): a property of the network,
  not of the request — the URL's *shape* is in the schema and still fails if wrong.

Everything else — a rule the schema *can* express (https:// URLs, integer bounds,
exactly one of two fields) — still fails the run. Every dropped failure is written to
the file named by ``GUIDEPATH_CONTRACT_DROPPED``, and the test prints them grouped, so
nothing is forgiven unseen.

One kind of generated request is not sent: one whose URL belongs to *another*
documented path. ``/guided-paths/{path_ref}`` says ``path_ref`` is not ``schema``,
``media`` or ``import``; the coverage phase sends exactly those values as negative
cases, but ``GET /guided-paths/schema`` is a documented operation of its own and
``POST /guided-paths/media/archive`` falls under ``/guided-paths/media/{file_id}`` —
the router prefers static segments (Werkzeug does; OpenAPI says the same of a concrete
path against a templated one) and answers with that path's contract, which the run
tests under that path.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache

import schemathesis

DROPPED_LOG = os.environ.get("GUIDEPATH_CONTRACT_DROPPED")
UNKNOWN_REFERENCE = re.compile(r"\bdoes not exist\b|\bnot found\b", re.IGNORECASE)
PLUGIN_SETTINGS = re.compile(r"^settings: .*\(plugin '[a-z0-9_]+'\)$", re.DOTALL)
FOREIGN_CURSOR = re.compile(r"\bcursor\b.*\bnot one this API returned\b", re.IGNORECASE)


def _error(response) -> dict:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _rule_the_schema_cannot_state(error: dict) -> str | None:
    """The name of the rule a 422 answer enforces, when no schema can state it."""
    field = str(error.get("field") or "")
    message = str(error.get("message") or "")
    if (field == "id" or field.endswith("_id") or field.endswith("_ids")) and UNKNOWN_REFERENCE.search(message):
        return f"unknown id in {field}"
    if field == "cursor" and FOREIGN_CURSOR.search(message):
        return "foreign cursor"
    if field == "settings" and PLUGIN_SETTINGS.search(message):
        return "settings refused by the named plugin's own schema"
    if error.get("code") == "unknown_event_type":
        return "event type pattern matching no registered type"
    if field == "url" and error.get("code") == "url_refused":
        return "webhook endpoint refused for where it resolves"
    issues = error.get("issues")
    if error.get("code") == "invalid_document" and isinstance(issues, list) and issues:
        codes = sorted({str(issue.get("code", "")) for issue in issues if isinstance(issue, dict)})
        if codes and all(code and not code.startswith("schema.") for code in codes):
            return "document rules " + ",".join(codes)
    return None


@lru_cache(maxsize=None)
def _templates(paths: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str], tuple[bool, ...]], ...]:
    """Each documented path, its regex, and which of its segments are literal."""
    out = []
    for path in paths:
        segments = path.strip("/").split("/")
        regex = "/" + "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        out.append((path, re.compile(regex + "$"), tuple(not s.startswith("{") for s in segments)))
    return tuple(out)


def _more_specific_owner(template: str, url: str, paths: tuple[str, ...]) -> str | None:
    """Another documented path that ``url`` matches with a literal segment where
    ``template`` has a parameter (the router chooses that path)."""
    ours = [not s.startswith("{") for s in template.strip("/").split("/")]
    for path, regex, literal in _templates(paths):
        if path == template or len(literal) != len(ours) or not regex.match(url):
            continue
        if any(lit and not mine for lit, mine in zip(literal, ours)):
            return path
    return None


@schemathesis.hook
def filter_case(context, case) -> bool:
    """Do not send a case whose URL is another documented path's (see the module)."""
    template = case.operation.path
    if "{" not in template:
        return True
    paths = tuple(case.operation.schema.raw_schema.get("paths", {}))
    try:
        url = case.formatted_path
    except Exception:  # noqa: BLE001  (a value that cannot be put in a path is sent as generated)
        return True
    return _more_specific_owner(template, url, paths) is None


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except ST202 answered 422 for a rule no schema can state, or
    400 for a limit of the transport that no per-field schema states: an integer
    anywhere in a JSON body beyond 64 bits (docs/api.md, "Limits of the input layer";
    free-form values such as a device's ``extra`` have no number schema to bound)."""
    if failure.code != "ST202" or response.status_code not in (400, 422):
        return True
    error = _error(response)
    if response.status_code == 400:
        rule = "transport limit: integers within 64 bits" if error.get("code") == "json_number_out_of_range" else None
    else:
        rule = _rule_the_schema_cannot_state(error)
    if rule is None:
        return True
    if DROPPED_LOG:
        with open(DROPPED_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"operation": f"{case.method} {case.path}", "rule": rule}) + "\n")
    return False
