"""``guided_paths/sansio`` stays pure: it imports only the standard library's pure
modules, ``jsonschema`` (``jsonschema-rs`` as its accelerator), ``json_logic`` and
itself, and does no IO of its own (see the package's docstring)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANSIO = ROOT / "guided_paths" / "sansio"
PACKAGE = "guidepath.guided_paths.sansio"

#: What a pure module may import (a name, or anything below it). Adding a module
#: here is a decision: it must do no IO, keep no state and read no clock.
ALLOWED = (
    "__future__",
    "collections",
    "copy",
    "dataclasses",
    "functools",
    "importlib.resources",  # the published schema, package data read once
    "itertools",
    "json",
    "math",
    "re",
    "typing",
    "jsonschema",
    "jsonschema_rs",
    "json_logic",
    PACKAGE,
)
#: Never, whatever an allowlist change says: the IO side of the plugin and of the platform.
FORBIDDEN = (
    "flask", "werkzeug", "sqlalchemy", "click", "redis", "psycopg", "kafka",
    "guidepath.core", "guidepath.plugins", "guidepath.relay",
    "os", "io", "pathlib", "socket", "ssl", "urllib", "http", "subprocess", "threading",
    "asyncio", "time", "datetime", "random", "secrets", "tempfile", "shutil", "logging", "sqlite3",
)
#: Builtins that reach outside the process (or the terminal).
IO_BUILTINS = {"open", "print", "input", "breakpoint", "exec", "eval", "compile", "__import__"}


def _modules() -> list[Path]:
    return sorted(p for p in SANSIO.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SANSIO).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _imported_names(path: Path) -> set[str]:
    """Every name a module imports, anywhere in it (lazy imports in functions too),
    relative imports resolved; ``from a import b`` counts as ``a.b``."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_checker_sees_relative_and_lazy_imports():
    assert f"{PACKAGE}.expressions" in _imported_names(SANSIO / "validation_steps.py")  # from . import expressions
    assert "jsonschema_rs" in _imported_names(SANSIO / "document_schema.py")  # imported inside a function
    assert f"{PACKAGE}.step_types.StepType" in _imported_names(SANSIO / "__init__.py")  # from .step_types import …


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pure_module_imports_only_pure_modules(path):
    names = _imported_names(path)
    forbidden = sorted(n for n in names if _under(n, FORBIDDEN))
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}: sansio does no IO; do it on the IO side"
    unknown = sorted(n for n in names if not _under(n, ALLOWED))
    assert not unknown, (
        f"{path.relative_to(ROOT)} imports {unknown}, which this test does not know to be pure; "
        "if it does no IO and keeps no state, add it to ALLOWED"
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pure_module_calls_no_io_builtins_and_rebinds_no_globals(path):
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    calls = sorted({node.func.id for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in IO_BUILTINS})
    assert not calls, f"{path.relative_to(ROOT)} calls {calls}"
    rebinds = [node.lineno for node in ast.walk(tree) if isinstance(node, (ast.Global, ast.Nonlocal))]
    assert not rebinds, f"{path.relative_to(ROOT)} rebinds a global at line(s) {rebinds}: keep state in the caller"


def test_importing_the_pure_core_loads_nothing_of_the_io_side():
    """In a fresh interpreter: the modules and their dependencies load no web
    framework, database driver, platform core or IO-side module of Guided Paths."""
    modules = [_module_name(p) for p in _modules()]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=60)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    io_side = sorted(
        name for name in loaded
        if _under(name, ("flask", "werkzeug", "sqlalchemy", "click", "redis", "psycopg", "kafka",
                         "guidepath.core", "guidepath.plugins", "guidepath.relay"))
        or (_under(name, ("guidepath.guided_paths",)) and not _under(name, (PACKAGE,))
            and name != "guidepath.guided_paths")
    )
    assert io_side == []


def test_no_name_the_package_re_exports_hides_one_of_its_modules():
    """``sansio.document_schema`` must stay the module, not the function of that name."""
    from guidepath.guided_paths import sansio

    modules = {p.stem for p in _modules()} - {"__init__"}
    assert modules & set(sansio.__all__) == set()
