"""The layering of ../shared/DESIGN.md, checked on the source: ``core`` imports
nothing of ours, plugins never import each other, the relay never imports Flask,
and plugins (built-in, Guided Paths, the examples) reach the kernel only through
the partner module ``guidepath.core.plugin_api``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"core": "guidepath.core", "plugins": "guidepath.plugins",
            "guided_paths": "guidepath.guided_paths", "relay": "guidepath.relay"}


def _imports(path: Path, package: str) -> set[str]:
    """Absolute names imported by a module (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module_parts = (package + "." + ".".join(path.relative_to(ROOT / package.split(".")[1]).with_suffix("").parts)).split(".")
    if module_parts[-1] == "__init__":
        module_parts = module_parts[:-1]
    else:
        module_parts = module_parts[:-1]  # the containing package
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_parts[: len(module_parts) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
    return names


def _modules(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_nothing_of_ours(path):
    bad = {n for n in _imports(path, "guidepath.core")
           if n.startswith(("guidepath.plugins", "guidepath.guided_paths", "guidepath.relay"))}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: core must find them through plugins"


@pytest.mark.parametrize("path", _modules("plugins"), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_never_import_each_other(path):
    own = path.relative_to(ROOT / "plugins").parts[0]
    others = {n for n in _imports(path, "guidepath.plugins")
              if n.startswith("guidepath.plugins.") and n.split(".")[2] != own}
    assert not others, f"{path.relative_to(ROOT)} imports {sorted(others)}: talk through events and hooks"


@pytest.mark.parametrize("path", _modules("relay"), ids=lambda p: str(p.relative_to(ROOT)))
def test_relay_never_imports_flask_or_plugins(path):
    names = _imports(path, "guidepath.relay")
    bad = {n for n in names if n.split(".")[0] in {"flask", "flask_sock", "werkzeug"}
           or n.startswith(("guidepath.plugins", "guidepath.guided_paths"))}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


PARTNER_MODULE = "guidepath.core.plugin_api"

#: What the relay, a library and a process of its own rather than a plugin, may use
#: of the kernel: configuration, crypto, the file store, logging, the error types,
#: event records and the hook marker. Never the partner module: it imports Flask.
RELAY_CORE_ALLOWED = ("guidepath.core.config", "guidepath.core.crypto", "guidepath.core.files",
                      "guidepath.core.logs", "guidepath.core.domain.errors", "guidepath.core.events",
                      "guidepath.core.plugins")


def _plugin_like_modules():
    """Plugin code; not a plugin's own tests, which may use the kernel's testing helpers."""
    examples = [p for p in sorted((ROOT / "examples").rglob("*.py")) if "tests" not in p.relative_to(ROOT).parts]
    return [*_modules("plugins"), *_modules("guided_paths"), *examples]


def _package_of(path: Path) -> str:
    top = path.relative_to(ROOT).parts[0]
    return PACKAGES.get(top, "examples")


@pytest.mark.parametrize("path", _plugin_like_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_use_the_kernel_only_through_the_partner_module(path):
    package = _package_of(path)
    names = _imports(path, package) if package != "examples" else _absolute_imports(path)
    bad = {n for n in names if n.startswith("guidepath.core") and n != PARTNER_MODULE}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: import from {PARTNER_MODULE}"


@pytest.mark.parametrize("path", _modules("relay"), ids=lambda p: str(p.relative_to(ROOT)))
def test_relay_uses_only_config_crypto_files_and_records_of_the_kernel(path):
    names = _imports(path, "guidepath.relay")
    bad = {n for n in names if n.startswith("guidepath.core")
           and not any(n == allowed or n.startswith(allowed + ".") for allowed in RELAY_CORE_ALLOWED)}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def _absolute_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_partner_module_check_catches_a_deep_import(tmp_path):
    """Guard the rule itself: a plugin importing a kernel module directly is caught."""
    module = tmp_path / "bad.py"
    module.write_text("from guidepath.core.web.auth import require\nfrom guidepath.core.plugin_api import hookimpl\n")
    names = _absolute_imports(module)
    assert {n for n in names if n.startswith("guidepath.core") and n != PARTNER_MODULE} == {
        "guidepath.core.web.auth"}


def test_relative_imports_are_resolved_correctly():
    """Guard the checker itself: a known relative import resolves to the right name."""
    names = _imports(ROOT / "core" / "web" / "app.py", "guidepath.core")
    assert {"guidepath.core.kernel", "guidepath.core.config"} <= names  # from ..kernel import …
    assert "guidepath.core.web" in names  # from . import errors
