"""/admin/plugins in headless Chromium, on both backends: the list, enable/disable,
the settings form generated from a plugin's JSON Schema (saved through the API; the
server's 422 shown at the offending input), a setting with markup shown as text; and
schema-form.js on its own (schema and value to DOM and back)."""

from __future__ import annotations

import types

import pytest

from guidepath.core.plugins import PluginInfo

from admin_support import page_errors, screenshot, signed_in, wait_until

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'
NAME = "spec-admin-form"
SCHEMA = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "title": "Greeting", "maxLength": 40, "default": "Hello",
                     "description": "Shown to customers first."},
        "support_email": {"type": "string", "format": "email", "description": "Where replies go."},
        "ticket_prefix": {"type": "string", "pattern": "^[A-Z]{2,5}$", "description": "Two to five capitals."},
        "max_fps": {"type": "integer", "minimum": 1, "maximum": 60, "default": 15},
        "ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "recording": {"type": "boolean", "default": False, "description": "Record sessions."},
        "region": {"enum": ["eu", "us", "ap"], "default": "eu"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "description": "Labels."},
        "channels": {"type": "array", "items": {"type": "string", "enum": ["chat", "voice", "video"]}},
        "limits": {"type": "object", "title": "Limits", "properties": {
            "daily": {"type": "integer", "minimum": 0},
            "burst": {"type": "integer", "minimum": 1, "maximum": 10},
        }, "additionalProperties": False},
        "mapping": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "Extra labels by key."},
        "note": {"type": ["string", "null"]},
    },
    "additionalProperties": False,
}


@pytest.fixture
def form_plugin(register_plugin):
    module = types.ModuleType("spec_admin_form")
    module.PLUGIN = PluginInfo(name=NAME, version="2.3.4", description="A plugin with every kind of setting.",
                               settings_schema=SCHEMA, default_enabled=False)
    register_plugin(module)
    return module


def card(page):
    return page.locator(f'section[data-plugin="{NAME}"]')


def field(page, path: str):
    return card(page).locator(f'[data-path="{path}"]')


def test_list_enable_disable(browser, tenant, form_plugin):
    context, page, console = signed_in(browser, tenant, "/admin/plugins")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        names = page.eval_on_selector_all("section[data-plugin]", "els => els.map(e => e.dataset.plugin)")
        assert {NAME, "remote_control", "diagnostics"} <= set(names)
        plugin = card(page)
        assert "v2.3.4" in plugin.inner_text() and "every kind of setting" in plugin.inner_text()
        assert plugin.locator("[id$=-state]").inner_text() == "disabled"
        plugin.locator("[id$=-toggle]").click()
        wait_until(page, f"document.querySelector('section[data-plugin=\"{NAME}\"] [id$=-state]').textContent === 'enabled'")
        assert tenant.admin.get(f"/api/v1/plugins/{NAME}").json()["enabled"] is True
        plugin.locator("[id$=-toggle]").click()
        wait_until(page, f"document.querySelector('section[data-plugin=\"{NAME}\"] [id$=-state]').textContent === 'disabled'")
        assert tenant.admin.get(f"/api/v1/plugins/{NAME}").json()["enabled"] is False
        assert "no settings" in card(page).page.locator('section[data-plugin="diagnostics"]').inner_text()
        assert page_errors(console) == []
    finally:
        context.close()


def test_the_generated_settings_form_saves_and_shows_server_errors_inline(browser, tenant, form_plugin):
    context, page, console = signed_in(browser, tenant, "/admin/plugins")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        plugin = card(page)
        # Controls by kind, with the schema's constraints, labels and help.
        assert field(page, "greeting").locator("input").get_attribute("maxlength") == "40"
        assert field(page, "greeting").locator("input").input_value() == "Hello"
        assert "Shown to customers first." in field(page, "greeting").inner_text()
        assert field(page, "support_email").locator("input").get_attribute("type") == "email"
        assert field(page, "ticket_prefix").locator("input").get_attribute("pattern") == "^[A-Z]{2,5}$"
        fps = field(page, "max_fps").locator("input")
        assert (fps.get_attribute("type"), fps.get_attribute("min"), fps.get_attribute("max")) == ("number", "1", "60")
        assert field(page, "recording").locator("input").get_attribute("type") == "checkbox"
        assert field(page, "region").locator("select option").all_inner_texts() == ["—", "eu", "us", "ap"]  # optional: "—" leaves it out
        assert field(page, "tags").locator("textarea").count() == 1
        assert field(page, "channels").locator("input[type=checkbox]").count() == 3
        assert plugin.locator('fieldset[data-path="limits"] legend').inner_text() == "Limits"
        assert field(page, "limits.burst").locator("input").count() == 1
        assert field(page, "mapping").locator("textarea.gp-mono").count() == 1  # JSON

        # Fill everything in and save.
        field(page, "greeting").locator("input").fill(XSS)
        field(page, "support_email").locator("input").fill("help@example.com")
        field(page, "ticket_prefix").locator("input").fill("ACME")
        fps.fill("30")
        field(page, "ratio").locator("input").fill("0.25")
        field(page, "recording").locator("input").check()
        field(page, "region").locator("select").select_option(label="us")
        field(page, "tags").locator("textarea").fill("vip\n\nbeta\n")
        field(page, "channels").locator("input[value=voice]").check()
        field(page, "limits.daily").locator("input").fill("100")
        field(page, "mapping").locator("textarea").fill('{"a": "b"}')
        plugin.locator("[id$=-save]").click()
        wait_until(page, f"document.querySelector('section[data-plugin=\"{NAME}\"] [role=status]').textContent.includes('saved')")
        saved = tenant.admin.get(f"/api/v1/plugins/{NAME}").json()["settings"]
        assert saved == {"greeting": XSS, "support_email": "help@example.com", "ticket_prefix": "ACME", "max_fps": 30,
                         "ratio": 0.25, "recording": True, "region": "us", "tags": ["vip", "beta"],
                         "channels": ["voice"], "limits": {"daily": 100}, "mapping": {"a": "b"}, "note": None}
        # Drawn again from the saved settings: the markup is a value, shown as text.
        assert field(page, "greeting").locator("input").input_value() == XSS

        # The server's 422 at the offending input (nested, then an array item, then a pattern).
        for path, value, control, words in [
            ("limits.burst", "11", "input", "maximum"),
            ("tags", "vip\nmuch-too-long-tag", "textarea", "too long"),
            ("ticket_prefix", "acme", "input", "does not match"),
        ]:
            field(page, path).locator(control).fill(value)
            plugin.locator("[id$=-save]").click()
            error = field(page, path).locator(".gp-field-error")
            error.wait_for()
            assert words in error.inner_text(), error.inner_text()
            assert field(page, path).locator(control).get_attribute("aria-invalid") == "true"
            assert "highlighted" in plugin.locator("[role=alert].gp-alert").inner_text()
            if path == "limits.burst":
                screenshot(plugin, "admin-plugin-settings-error")  # the plugin's card
            plugin.locator("[id$=-reset]").click()
        # Client-side: JSON that does not parse never leaves the browser.
        field(page, "mapping").locator("textarea").fill("{nope")
        plugin.locator("[id$=-save]").click()
        assert "Not valid JSON" in field(page, "mapping").locator(".gp-field-error").inner_text()
        assert tenant.admin.get(f"/api/v1/plugins/{NAME}").json()["settings"] == saved
        assert page.evaluate("window.__xss") is None and page_errors(console) == []
    finally:
        context.close()


ROUND_TRIP = """async ([schema, value]) => {
  const sf = await import("/console/assets/schema-form.js");
  const root = sf.buildForm(schema, value, { idPrefix: "t" });
  document.body.append(root);
  const first = sf.readForm(root);
  const kinds = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, sf.kindOf(s)]));
  const unplaced = sf.showErrors(root, [{ path: "limits.burst", message: "m1" }, { path: "tags.1", message: "m2" },
                                        { path: "nope", message: "m3" }]);
  const shown = [...root.querySelectorAll(".gp-field-error:not([hidden])")].map((e) => [e.closest("[data-path]").dataset.path, e.textContent]);
  sf.clearErrors(root);
  const cleared = root.querySelectorAll(".gp-field-error:not([hidden])").length;
  root.remove();
  return { value: first.value, errors: first.errors, kinds, unplaced, shown, cleared,
           paths: [sf.pathOfField("settings.a.b"), sf.pathOfField("settings"), sf.pathOfField("enabled")] };
}"""


def test_schema_form_round_trips_a_value(browser, tenant):
    value = {"greeting": "Hi", "max_fps": 20, "ratio": 0.5, "recording": True, "region": "ap", "tags": ["a", "b"],
             "channels": ["chat", "video"], "limits": {"daily": 5, "burst": 2}, "mapping": {"x": "y"}, "note": None,
             "support_email": "a@example.com", "ticket_prefix": "AB", "unknown_kept": [1, 2]}
    context, page, console = signed_in(browser, tenant, "/admin/plugins")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        result = page.evaluate(ROUND_TRIP, [SCHEMA, value])
        assert result["value"] == value and result["errors"] == []
        assert result["kinds"] == {"greeting": "string", "support_email": "string", "ticket_prefix": "string",
                                   "max_fps": "number", "ratio": "number", "recording": "boolean", "region": "enum",
                                   "tags": "lines", "channels": "choices", "limits": "object", "mapping": "json",
                                   "note": "string"}
        assert result["shown"] == [["tags", "m2"], ["limits.burst", "m1"]]
        assert result["unplaced"] == [{"path": "nope", "message": "m3"}] and result["cleared"] == 0
        assert result["paths"] == ["a.b", "", None]
        # Empty optional fields are left out (the defaults apply); a nullable one is null.
        empty = page.evaluate(ROUND_TRIP, [SCHEMA, {}])["value"]
        assert empty == {"recording": False, "region": "eu", "note": None}
    finally:
        context.close()
