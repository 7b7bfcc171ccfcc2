"""The wheel works when installed for real, not only as the editable checkout.

Builds a wheel from a clean copy of the source tree (once per module), checks that
the build printed no warning and that every file under the package folders is in
the wheel, installs it (non-editable) into a fresh virtualenv, and checks from there
that every declared package imports from the installed tree, that the Alembic
scripts were packaged (and run), and that the ``guidepath`` console script works.

Dependencies are not reinstalled (no network): a ``.pth`` file in the new venv
appends the main venv's site-packages *after* its own, so the wheel's guidepath
wins and the editable install's finder (activated by a ``.pth`` file that only
site-packages directories get to run) is never installed.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEP_TIMEOUT = 120  # seconds, per subprocess; the whole test takes ~15 s
# Not part of the source: local state, caches and build leftovers (a stale build/lib
# would put files in the wheel that the source no longer has).
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "node_modules",
    "var", ".pytest_cache", ".hypothesis", ".ci",
)

CHECK_SCRIPT = r"""
import importlib, json, pkgutil, sys
import guidepath.core
names = json.loads(sys.argv[1])
packages, modules = {}, {}
for name in names:
    package = importlib.import_module(name)  # also "...migrations.global": no keyword problem here
    packages[name] = [str(p) for p in package.__path__]
    if ".migrations" in name:
        continue  # env.py and versions/*.py only run inside Alembic
    for info in pkgutil.iter_modules(package.__path__, name + "."):
        if not info.ispkg:
            modules[info.name] = importlib.import_module(info.name).__file__
print(json.dumps({"core": guidepath.core.__file__, "packages": packages, "modules": modules}))
"""


def run(argv: list[str], **kw) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=STEP_TIMEOUT, **kw)
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def setuptools_table() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def source_packages() -> set[str]:
    """Every folder with an ``__init__.py`` under the mapped top-level folders."""
    found = set()
    for prefix, folder in setuptools_table()["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(base).parts
            found.add(".".join((prefix, *relative)))
    return found


def folder_of(package: str) -> Path | None:
    for prefix, folder in setuptools_table()["package-dir"].items():
        if package == prefix or package.startswith(prefix + "."):
            return ROOT / folder / Path(*package[len(prefix):].lstrip(".").split(".") if package != prefix else ())
    return None


def shipped_files() -> dict[str, Path]:
    """``{path in the wheel: source file}`` for every file under the mapped folders that
    a wheel must ship: everything but caches, dotfiles and editor leftovers."""
    junk = [*setuptools_table().get("exclude-package-data", {}).get("*", []), "*.pyc"]
    files = {}
    for prefix, folder in setuptools_table()["package-dir"].items():
        base = ROOT / folder
        for path in base.rglob("*"):
            relative = path.relative_to(base)
            if (not path.is_file() or "__pycache__" in relative.parts
                    or any(part.startswith(".") for part in relative.parts)
                    or any(fnmatch.fnmatch(path.name, pattern) for pattern in junk)):
                continue
            files["/".join((*prefix.split("."), *relative.parts))] = path
    return files


def data_folders() -> set[str]:
    """Every folder holding a shippable file, as the dotted name setuptools gives it."""
    return {wheel_path.rpartition("/")[0].replace("/", ".") for wheel_path in shipped_files()}


def test_every_source_package_is_declared():
    declared = set(setuptools_table()["packages"])
    assert source_packages() - declared == set(), "add these to [tool.setuptools] packages"
    # A folder of templates or static files that is not listed makes setuptools print a
    # "Package would be ignored" warning for each of its files (and a later setuptools
    # will leave them out).
    assert data_folders() - declared == set(), "add these folders to [tool.setuptools] packages"
    # The rest are folders of data (schemas, templates, Alembic revisions), listed so
    # setuptools ships them without warnings: each must exist and hold files.
    listed_data = declared - source_packages()
    missing = {p for p in listed_data if not ((folder := folder_of(p)) and folder.is_dir()
                                               and any(f.is_file() for f in folder.iterdir()))}
    assert missing == set(), "declared packages with no folder of files"


# A Python warning as printed on stderr (``file.py:12: SetuptoolsDeprecationWarning: …``),
# and setuptools' own words for a folder it would leave out.
BUILD_WARNING = re.compile(r":\d+: \w*Warning\b|would be ignored|absent from the .packages. configuration")


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> tuple[Path, str]:
    """The wheel built from a clean copy of the checkout, and the build's verbose output."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    wheels = tmp / "wheels"
    # -v: the build backend's own output (setuptools' warnings) is shown only verbose.
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(wheels), "."], cwd=source)
    (wheel,) = wheels.glob("guidepath-*.whl")
    return wheel, built.stdout + built.stderr


@pytest.mark.slow
def test_the_build_prints_no_warning(built_wheel):
    _wheel, log = built_wheel
    warnings = [line for line in log.splitlines() if BUILD_WARNING.search(line)]
    assert warnings == [], "\n".join(warnings[:20])


@pytest.mark.slow
def test_the_wheel_ships_every_file_of_the_package_folders(built_wheel):
    wheel, _log = built_wheel
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {name for name in archive.namelist() if not name.startswith("guidepath-")}
    expected = shipped_files()
    assert any(not name.endswith(".py") for name in expected)  # templates, static files, schemas…
    missing = sorted(set(expected) - in_wheel)
    assert missing == [], "not in the wheel (declare the folder, see pyproject.toml)"
    unexpected = sorted(name for name in in_wheel - set(expected) if not name.endswith(".pyc"))
    assert unexpected == [], "in the wheel but not in the source tree"


@pytest.mark.slow
def test_wheel_installs_and_works_outside_the_checkout(tmp_path, built_wheel):
    wheel, _log = built_wheel
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, system_site_packages=False)
    python = env_dir / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--quiet", str(wheel)])
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    assert site.is_relative_to(env_dir)
    main_site = sysconfig.get_path("purelib")
    assert main_site != str(site)
    (site / "zz_guidepath_test_dependencies.pth").write_text(main_site + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GUIDEPATH_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp_path / "work"  # not the checkout: nothing importable by accident
    work.mkdir()

    packages = setuptools_table()["packages"]
    out = run([str(python), "-c", CHECK_SCRIPT, json.dumps(packages)], cwd=work, env=env)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    installed = site / "guidepath"
    assert Path(report["core"]).is_relative_to(installed), report["core"]
    for name in packages:
        paths = [Path(p) for p in report["packages"][name]]
        assert paths and all(p.is_relative_to(installed) for p in paths), (name, paths)
    assert report["modules"], "no modules imported"
    for name, file in report["modules"].items():
        assert Path(file).is_relative_to(installed), (name, file)

    migrations = installed / "core" / "db" / "migrations"
    for kind in ("global", "tenant"):
        assert (migrations / kind / "env.py").is_file(), kind
        assert (migrations / kind / "script.py.mako").is_file(), kind
        assert list((migrations / kind / "versions").glob("0001*.py")), kind

    cli = env_dir / "bin" / "guidepath"
    assert cli.is_file()
    help_text = run([str(cli), "--help"], cwd=work, env=env).stdout
    for command in ("run", "db", "tenants", "users", "plugins"):
        assert command in help_text, command

    # The packaged Alembic scripts run: the global schema, then a tenant's.
    env["GUIDEPATH_DATA_DIR"] = str(tmp_path / "data")
    upgraded = run([str(cli), "db", "upgrade"], cwd=work, env=env)
    assert "Global database" in upgraded.stdout
    run([str(cli), "tenants", "create", "acme", "--admin-email", "admin@acme.example.com",
         "--admin-password", "correct-horse-battery"], cwd=work, env=env)
    listed = run([str(cli), "tenants", "list"], cwd=work, env=env).stdout
    assert "acme" in listed
