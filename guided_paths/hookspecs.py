"""The hooks Guided Paths offers to other plugins.

Guided Paths owns these specifications (the kernel knows nothing of step types,
apps or actions) and adds them through the kernel's ``register_hookspecs`` hook,
as a pytest plugin adds its hooks with ``pytest_addhooks``. A plugin implementing
one of them marks it ``@hookimpl(optionalhook=True)``: it then loads even on an
installation where Guided Paths is not installed or is left out of the
deployment.

As in ``guidepath.core.hookspecs``, each spec's docstring is the hook's
documentation, in Markdown, rendered into ``docs/plugins.md`` by ``make docs``.
Called through the typed facade :class:`guidepath.guided_paths.hooks.PathHooks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import Tenant, TenantContext

    from .sansio.step_types import StepType


# ---------------------------------------------------------------------------
# Start-up: called for every installed plugin.
# ---------------------------------------------------------------------------


@hookspec
def register_step_types() -> list[StepType]:
    """Return Guided Path step types this plugin adds.

    **When**: when Guided Paths builds a step-type registry: once per kernel for all
    installed plugins (when the app starts), and once per set of enabled plugins for
    the tenants that have that set; the registries are cached per kernel.

    **Arguments**: none.

    **Returns**: a list of `StepType` records
    (`guidepath.guided_paths.sansio.step_types`): `name` (lowercase words joined by
    dots or underscores, such as `acme.signature`; unique across plugins: a
    duplicate is an error naming both plugins, logged at start-up), `config_schema`
    (the JSON Schema of the step's own fields in a Guided Path document),
    `description`, `interactive` (whether a run waits at this step for an answer)
    and `answer_schema` (the JSON Schema an answer must match). Documents using the
    type are validated against `config_schema` when they are saved and published; a
    tenant that has your plugin disabled cannot publish paths using its step types.
    An exception is logged with your plugin's name and your step types are left out.

    *Changed in plugin API 1.0*: a Guided Paths hook (it was a kernel hook):
    implement it with `optionalhook=True`.

    ```python
    from guidepath.core.plugin_api import hookimpl
    from guidepath.guided_paths.sansio.step_types import StepType


    @hookimpl(optionalhook=True)   # a Guided Paths hook: loads without Guided Paths
    def register_step_types():
        return [
            StepType(
                name="acme.signature",
                description="The customer signs on the screen.",
                config_schema={"type": "object",
                               "properties": {"prompt": {"type": "string"}},
                               "required": ["prompt"]},
                interactive=True,
                answer_schema={"type": "object",
                               "properties": {"svg": {"type": "string", "maxLength": 100000}},
                               "required": ["svg"]},
            )
        ]
    ```
    """


# ---------------------------------------------------------------------------
# Runs: called for one tenant.
# ---------------------------------------------------------------------------


@hookspec
def list_guided_path_apps(tenant: Tenant, ctx: TenantContext) -> list[dict[str, Any]]:
    """Return the Guided Path Apps this plugin allows for `tenant` (its allowlist).

    **When**: whenever Guided Paths needs the tenant's allowlist of Guided Path Apps:
    validating a document (saving a draft, `GET /api/v1/guided-paths/{id}`,
    publishing), showing a run that waits on an `app` step, and taking an app's
    output (`POST /api/v1/runs/{id}/apps/{step_id}`). Called outside any open
    transaction. For one tenant.

    **Arguments**: `tenant`, the tenant; `ctx`, its context (database, cache, files,
    settings).

    **Returns**: a list of dicts, one per app this plugin allows for the tenant:

    - `app_id`: what `app` steps name in `app_id`;
    - `title`: shown to agents;
    - `url`: the page embedded in the sandboxed iframe;
    - `origin`: `new URL(url).origin`, the run page's CSP `frame-src` and the
      channel's `appOrigin`;
    - `input_schema`, `output_schema`: JSON Schemas (2020-12) of what the app accepts
      and returns; outputs are checked against `output_schema` on the server before
      they reach variables;
    - `error` (optional): the app is listed but may not be used now; the message says
      why.

    The lists of all enabled plugins are merged; when two plugins list the same
    `app_id`, the first one called wins. Apps nobody lists cannot be used:
    publishing a path with an `app` step naming one fails with `app.unknown_app`,
    and its runs refuse outputs with 409 `app_not_allowed`. An exception, or an
    answer that is not a list, is logged with your plugin's name and your apps are
    left out. The built-in `guided_path_apps` plugin answers from its admin-managed
    registry (`/api/v1/guided-path-apps`); implement the hook yourself to take apps
    from somewhere else.

    *Changed in plugin API 1.0*: a Guided Paths hook (it was a kernel hook):
    implement it with `optionalhook=True`.

    ```python
    from guidepath.core.plugin_api import hookimpl


    @hookimpl(optionalhook=True)   # a Guided Paths hook: loads without Guided Paths
    def list_guided_path_apps(ctx):
        return [{
            "app_id": "speed-test",
            "title": "Speed test",
            "url": "https://apps.example.com/speed-test/",
            "origin": "https://apps.example.com",
            "input_schema": {"type": "object"},
            "output_schema": {"type": "object", "required": ["mbps"],
                              "properties": {"mbps": {"type": "number", "minimum": 0}}},
        }]
    ```
    """


@hookspec(firstresult=True)
def perform_action(
    tenant: Tenant, action: str, action_input: Any, run: dict[str, Any], ctx: TenantContext
) -> dict[str, Any] | None:
    """Do what a Guided Path `action` step asks, right away, if this plugin can.

    **When**: after a Guided Paths request (start, answer, back, an action's or app's
    result, hand-over) has committed and left the run waiting on an `action` step;
    once per action step reached, up to ten in a row in one request. For one tenant.

    **Arguments**: `tenant`; `action`, the step's action name (`diagnostics.collect`,
    `remote_control.request`, your own `acme.warranty`…); `action_input`, the step's
    `input` evaluated against the run (variables, answers); `run`, the run as the
    API shows it (`id`, `session_id`, `customer_id`, `mode`, `variables`, `view`…);
    `ctx`, the tenant's context.

    **Returns**: `None` unless your plugin handles `action`: the run then waits until a
    host reports with `POST /api/v1/runs/{id}/actions/{step_id}`. Otherwise
    `{"ok": true|false, "result": {…}}`: the result lands in the step's `store_as`
    variable and the run moves on (`ok: false` goes to the step's `on_error`), in a
    transaction of its own. A first-answer hook (`firstresult`): it stops at the
    first answer other than `None`. A plugin that raises is logged with its name and
    skipped, and the next one is asked; a malformed answer is logged and the run
    waits, as if nobody had answered. It runs inside the request: answer from what
    you have (the database, a cache), and start long work elsewhere, reporting it
    through the API when it is done.

    The built-in `diagnostics` plugin answers `diagnostics.collect` with the
    session's device report. To replace it, leave it out of the deployment
    (`GUIDEPATH_DISABLED_PLUGINS=diagnostics`) and answer the same action.

    *Changed in plugin API 1.0*: a Guided Paths hook (it was a kernel hook):
    implement it with `optionalhook=True`; a first-answer hook.

    ```python
    from guidepath.core.plugin_api import hookimpl


    @hookimpl(optionalhook=True)   # a Guided Paths hook: loads without Guided Paths
    def perform_action(action, run, ctx):
        if action != "acme.warranty":
            return None
        expires = ctx.cache.get_json(f"acme:warranty:{run['customer_id']}")  # set by a worker
        return {"ok": expires is not None, "result": {"expires": expires}}
    ```
    """
