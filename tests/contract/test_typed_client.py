"""A typed client generated from the live ``/api/openapi.json`` works (issue 9, "Done when").

``openapi-python-client`` (a mainstream generator) turns the document a tenant's host
serves into a Python package, offline, in a temporary folder. The package must
compile and import, must have a function for every operation, and drives one full
support flow over real HTTP with an API key — create a customer, open a session for
them, take it (waiting → active), create and publish a small Guided Path, run it in
the session and answer its steps to the end, then end the session — reading every
answer through the generated types, never as raw JSON.

Functions are found by what they call (method and path template, read from the
generated code), not by their names, so renaming an ``operationId`` does not break
the test; a missing schema does (the client then has no type to parse into).
"""

from __future__ import annotations

import compileall
import importlib
import inspect
import json
import re
import secrets
import subprocess
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.contract

# The generator knows JSON, forms, multipart and application/octet-stream bodies; a
# binary body declared as image/png or application/x-guidepath-recording (media
# uploads, downloads, recordings) is "unsupported" to it. Its own configuration maps
# such media types to octet-stream, as any user of it would.
PARSED_MEDIA = re.compile(r"^(application/json|application/[\w.+-]*\+json|text/.*|multipart/form-data"
                          r"|application/x-www-form-urlencoded|application/octet-stream)$")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# A WebSocket upgrade is no operation an HTTP client can call (the schemathesis test
# leaves it out for the same reason).
NOT_HTTP = {("GET", "/ws")}
CALL = re.compile(r'"method":\s*"(?P<method>\w+)",\s*"url":\s*"(?P<url>[^"]+)"')


@dataclass
class Generated:
    package: types.ModuleType
    folder: Path
    output: str  # what the generator printed (its warnings)
    operations: dict[tuple[str, str], str]  # (METHOD, path template) → module name

    def module(self, method: str, path: str) -> types.ModuleType:
        name = self.operations.get((method, path))
        assert name is not None, f"the generated client has no function for {method} {path}"
        return importlib.import_module(name)


def _binary_media_types(document: dict[str, Any]) -> set[str]:
    """Media types of request and response bodies the generator cannot parse, whose
    schema says binary (``type: string, format: binary``)."""
    found: set[str] = set()

    def visit(content: Any) -> None:
        for media, spec in (content or {}).items():
            schema = (spec or {}).get("schema") or {}
            if not PARSED_MEDIA.match(media) and schema.get("format") == "binary":
                found.add(media)

    for item in document.get("paths", {}).values():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            visit((op.get("requestBody") or {}).get("content"))
            for response in (op.get("responses") or {}).values():
                visit((response or {}).get("content"))
    return found


def _generator_config(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "post_hooks": [],  # formatting with ruff is cosmetic, and slow
        "content_type_overrides": {media: "application/octet-stream" for media in sorted(_binary_media_types(document))},
    }


@pytest.fixture
def generated(openapi_document: dict[str, Any], tmp_path: Path) -> typing.Iterator[Generated]:
    name = "guidepath_client_" + secrets.token_hex(4)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(openapi_document))
    config = tmp_path / "generator.json"
    config.write_text(json.dumps(_generator_config(openapi_document)))
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
               "--output-path", str(tmp_path / name), "--meta", "none", "--config", str(config)]
    done = subprocess.run(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)
    output = done.stdout
    assert done.returncode == 0, f"openapi-python-client refused the document:\n{output}"
    folder = tmp_path / name
    assert compileall.compile_dir(str(folder), quiet=1), f"the generated client does not compile:\n{output}"

    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module(name)
        operations: dict[tuple[str, str], str] = {}
        for file in sorted((folder / "api").rglob("*.py")):
            match = CALL.search(file.read_text())
            if match:
                module = ".".join([name, *file.relative_to(folder).with_suffix("").parts])
                operations[(match["method"].upper(), match["url"])] = module
        yield Generated(package, folder, output, operations)
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def test_the_generator_takes_every_operation(generated: Generated, openapi_document: dict[str, Any]) -> None:
    """No warning (a warning means an operation or a model was left out), a function
    for every operation in the document, and every generated module imports."""
    blocks = re.split(r"^(?=WARNING )", generated.output, flags=re.MULTILINE)[1:]
    warnings = [block.strip() for block in blocks
                if not any(block.startswith(f"WARNING parsing {m} {p} ") for m, p in NOT_HTTP)]
    documented = {(method.upper(), path) for path, item in openapi_document["paths"].items()
                  for method in item if method in HTTP_METHODS} - NOT_HTTP
    missing = sorted(documented - set(generated.operations))
    broken = []
    for (method, path), name in sorted(generated.operations.items()):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001  (report them all)
            broken.append(f"{method} {path} ({name.rsplit('.', 1)[-1]}.py): {type(exc).__name__}: {exc}")
    assert not warnings and not missing and not broken, (
        "openapi-python-client could not use the whole document.\n"
        f"Operations without a function: {missing}\n"
        "Generated modules that do not import:\n  " + "\n  ".join(broken)
        + "\n\nGenerator warnings:\n" + "\n\n".join(warnings))


class Flow:
    """Calls operations of the generated client by method and path, with typed bodies,
    and insists on typed answers."""

    def __init__(self, generated: Generated, client: Any) -> None:
        self.generated = generated
        self.client = client
        # Bodies the client takes untyped (``Any``): the call still works, so the flow goes
        # on, and the test fails at the end listing them.
        self.untyped: list[str] = []

    def call(self, method: str, path: str, *path_args: str, body: dict[str, Any] | None = None,
             expect: int = 200, **query: Any) -> Any:
        module = self.generated.module(method, path)
        kwargs: dict[str, Any] = dict(query)
        if body is not None:
            kwargs["body"] = self._body(module, method, path, body)
        response = module.sync_detailed(*path_args, client=self.client, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path}: {response.status_code} (expected {expect}): {response.content[:2000]!r}")
        parsed = response.parsed
        assert parsed is not None and hasattr(parsed, "to_dict"), (
            f"{method} {path}: the generated client has no type for the {expect} response "
            f"(parsed as {type(parsed).__name__}); the document should give it a schema")
        error_type = getattr(self._models(), "Error", None)
        assert error_type is None or not isinstance(parsed, error_type), f"{method} {path}: {parsed!r}"
        return parsed

    def _models(self) -> Any:
        return importlib.import_module(self.generated.package.__name__ + ".models")

    def _body(self, module: types.ModuleType, method: str, path: str, data: dict[str, Any]) -> Any:
        """The generated body type of the operation, built from ``data``."""
        try:
            hints = typing.get_type_hints(module.sync_detailed)
        except Exception:  # noqa: BLE001  (fall back to the raw annotation)
            hints = {name: p.annotation for name, p in inspect.signature(module.sync_detailed).parameters.items()}
        annotation = hints.get("body")
        assert annotation is not None, f"{method} {path}: the generated function takes no body"
        if annotation is Any:
            self.untyped.append(f"{method} {path}: the generated function takes its body as Any")
            return data
        candidates = typing.get_args(annotation) or (annotation,)
        for candidate in candidates:
            if hasattr(candidate, "from_dict"):
                return candidate.from_dict(data)
        pytest.fail(f"{method} {path}: the body type {annotation!r} is not a generated model", pytrace=False)


def _small_path(key: str) -> dict[str, Any]:
    """A valid Guided Path document: a yes/no question, a decision and two ends."""
    return {
        "schema_version": 1,
        "id": key,
        "title": "Check the cable",
        "variables": {"plugged": {"type": "boolean", "default": False}},
        "start": "ask",
        "steps": {
            "ask": {"type": "question", "kind": "yes_no", "prompt": "Is the cable plugged in?",
                    "store_as": "plugged", "next": "decide"},
            "decide": {"type": "decision",
                       "branches": [{"when": {"===": [{"var": "vars.plugged"}, True]}, "next": "fixed"}],
                       "default": "escalate"},
            "fixed": {"type": "end", "outcome": "resolved", "message": "Good."},
            "escalate": {"type": "end", "outcome": "escalate", "message": "An agent will help."},
        },
    }


def _answer_for(view: dict[str, Any]) -> Any:
    kind = view.get("kind")
    if kind == "yes_no":
        return True
    if kind in ("single_choice", "multi_choice"):
        first = view["options"][0]["value"]
        return [first] if kind == "multi_choice" else first
    if kind == "number":
        return view.get("min", 1)
    return "fine"


def test_a_typed_client_drives_a_full_flow(generated: Generated, tenant) -> None:
    key = tenant.admin.new_api_key(name="typed-client", role="admin")
    client = generated.package.AuthenticatedClient(
        base_url=tenant.server.url, token=key, headers={"Host": tenant.host},
        raise_on_unexpected_status=True, timeout=30.0)
    flow = Flow(generated, client)

    customer = flow.call("POST", "/api/v1/customers", expect=201,
                         body={"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
    assert customer.id and customer.email == "ada@example.com"
    session = flow.call("POST", "/api/v1/sessions", expect=201, body={"customer_id": customer.id})
    assert session.state == "created" and session.customer_id == customer.id

    users = flow.call("GET", "/api/v1/users")
    (admin_user,) = [u for u in users.items if u.email == tenant.admin_email]
    session = flow.call("POST", "/api/v1/sessions/{session_id}/state", session.id, body={"state": "waiting"})
    session = flow.call("POST", "/api/v1/sessions/{session_id}/state", session.id,
                        body={"state": "active", "agent_id": admin_user.id})
    assert session.state == "active" and session.agent_id == admin_user.id

    path = flow.call("POST", "/api/v1/guided-paths", expect=201, body=_small_path("typed-client-cable"))
    version = flow.call("POST", "/api/v1/guided-paths/{path_ref}/publish", path.id, expect=201)
    assert version.version == 1
    run = flow.call("POST", "/api/v1/runs", expect=201, body={"path_id": path.id, "session_id": session.id})
    assert run.session_id == session.id and run.status == "waiting_answer"
    for _ in range(10):
        if run.status != "waiting_answer":
            break
        view = run.view.to_dict() if hasattr(run.view, "to_dict") else dict(run.view)
        run = flow.call("POST", "/api/v1/runs/{run_id}/answers", run.id,
                        body={"step_id": view["step_id"], "value": _answer_for(view)})
    assert run.status == "completed" and run.outcome == "resolved"

    ended = flow.call("POST", "/api/v1/sessions/{session_id}/state", session.id,
                      body={"state": "ended", "resolution": "resolved"})
    assert ended.state == "ended" and ended.resolution == "resolved" and ended.ended_at
    again = flow.call("GET", "/api/v1/sessions/{session_id}", session.id)
    assert again.state == "ended"
    assert not flow.untyped, "the flow ran, but not fully typed:\n" + "\n".join(flow.untyped)
