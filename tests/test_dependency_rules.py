"""The layering of ../shared/DESIGN.md, checked on the source: ``core`` imports
nothing of ours, plugins never import each other, the relay never imports Flask."""

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


def test_relative_imports_are_resolved_correctly():
    """Guard the checker itself: a known relative import resolves to the right name."""
    names = _imports(ROOT / "core" / "web" / "app.py", "guidepath.core")
    assert {"guidepath.core.kernel", "guidepath.core.config"} <= names  # from ..kernel import …
    assert "guidepath.core.web" in names  # from . import errors
