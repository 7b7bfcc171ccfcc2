"""Example plugin packages (``examples/*``) built as wheels and installed for a test.

pip installs into a private folder (``pip install --target``) put on ``sys.path``
for the tests that asked, rather than into the shared virtualenv: other test runs
using the virtualenv at the same time must not see an extra plugin, and a run
killed half-way must not leave one installed.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
def copy_example(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of an example package outside the checkout: building it writes
    ``build/`` and ``*.egg-info`` next to the sources, which must not land in the
    repository, and its tests then run with nothing of the checkout beside them."""
    copy = tmp_path_factory.mktemp("example-src") / name
    shutil.copytree(EXAMPLES / name, copy, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    return copy


@contextlib.contextmanager
def installed_wheel(source: Path, package: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build ``source`` into a wheel and ``pip install`` the wheel into a private
    folder put on ``sys.path``; yields the folder. Undone at the end, as
    ``pip uninstall`` would: nothing of it stays importable."""
    wheels = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("example-site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)])
    _run([*pip, "install", "--no-deps", "--quiet", "--target", str(target), *map(str, wheels.glob("*.whl"))])
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()  # importlib.metadata must rescan sys.path for the entry point
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip {command[4]} failed:\n{result.stdout}\n{result.stderr}"
