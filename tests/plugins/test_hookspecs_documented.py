"""Every hook is documented, once, in its spec's docstring, and docs/plugins.md shows it.

datasette's rule: adding a hook without documenting it fails the build, and so does
documenting a hook that does not exist. The prose of each hook lives in the docstring
of its spec (``guidepath.core.hookspecs`` for the kernel's, a feature's own
``hookspecs`` module for the feature's); ``make docs`` renders them into the Hook
reference of docs/plugins.md (``guidepath.core.plugins.reference``), and a test here
fails when that text is stale. Each section is headed by the hook's signature as
written in its spec, so a changed signature fails too until the docs follow.

The specs come from a manager with every installed plugin loaded, as a kernel loads
them: the kernel's hooks plus those Guided Paths adds through ``register_hookspecs``.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from guidepath.core import hookspecs as kernel_hookspecs
from guidepath.core.plugins import PluginManager, reference
from guidepath.core.plugins.markers import PROJECT_NAME

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
EXAMPLE_PLUGIN = ROOT / "examples" / "guidepath-hello" / "guidepath_hello" / "__init__.py"
PARTNER_MODULE = "guidepath.core.plugin_api"
GUIDED_PATHS_HOOKS = {"register_step_types", "list_guided_path_apps", "perform_action"}
#: The one docs example that is not a plugin: an application embedding guidepath
#: wires the kernel and the app itself.
APPLICATION_WIRING = {"guidepath.core.config", "guidepath.core.web.app"}

# "### `register_routes() -> list[Blueprint]`"
HOOK_HEADING = re.compile(r"^`(?P<signature>(?P<name>[A-Za-z_][A-Za-z0-9_]*)\(.*)`$")
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def signature_of(fn: Callable[..., Any]) -> str:
    """``name(arg: Type, …) -> Return``, from the annotations as written (they are
    strings: spec modules use ``from __future__ import annotations``)."""
    sig = inspect.signature(fn)
    params = []
    for param in sig.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{fn.__name__}: {param.name} has no type"
        params.append(f"{param.name}: {param.annotation}")
    assert sig.return_annotation is not inspect.Signature.empty, f"{fn.__name__} has no return type"
    return f"{fn.__name__}({', '.join(params)}) -> {sig.return_annotation}"


def headings(text: str) -> Iterator[tuple[int, str, int, int]]:
    """``(level, title, start, end)`` of each Markdown heading outside code blocks."""
    in_code = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"(#{1,6}) (.*)", line)):
            yield len(match[1]), match[2].rstrip(), offset, offset + len(line)
        offset += len(line)


def documented_sections(text: str) -> dict[str, tuple[str, str]]:
    """hook name -> (signature in the heading, text of the section)."""
    found = [h for h in headings(text) if h[0] <= 3]
    sections: dict[str, tuple[str, str]] = {}
    for (level, title, _, end), following in zip(found, [*found[1:], None]):
        match = HOOK_HEADING.match(title)
        if level != 3 or not match:
            continue
        stop = following[2] if following else len(text)
        marker = text.find(reference.END, end)
        if marker != -1:
            stop = min(stop, marker)
        assert match["name"] not in sections, f"docs/plugins.md documents {match['name']} twice"
        sections[match["name"]] = (match["signature"], text[end:stop])
    return sections


def generated_region(text: str) -> str:
    start, end = text.index(reference.START), text.index(reference.END)
    return text[start + len(reference.START):end]


def python_blocks(text: str) -> list[str]:
    return PYTHON_BLOCK.findall(text)


MANAGER: PluginManager = reference.loaded_manager()
SPECS: dict[str, Callable[..., Any]] = MANAGER.hook_specs()
TEXT = DOCS.read_text(encoding="utf-8")
SECTIONS = documented_sections(TEXT)


# -- where the specs come from --------------------------------------------------------------


def test_a_bare_manager_knows_exactly_the_kernel_hooks():
    marker = f"{PROJECT_NAME}_spec"
    kernel = sorted(name for name, fn in vars(kernel_hookspecs).items()
                    if inspect.isfunction(fn) and hasattr(fn, marker))
    assert "register_routes" in kernel and "register_hookspecs" in kernel
    assert PluginManager().hook_names() == kernel
    assert not GUIDED_PATHS_HOOKS & set(kernel), "Guided Paths owns its hooks"


def test_loaded_plugins_add_the_guided_paths_hooks_through_register_hookspecs():
    assert GUIDED_PATHS_HOOKS <= set(SPECS), (
        "the guided_paths plugin must add guidepath.guided_paths.hookspecs in register_hookspecs")
    for name in GUIDED_PATHS_HOOKS:
        assert SPECS[name].__module__ == "guidepath.guided_paths.hookspecs"


# -- every hook documented, in its docstring --------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_spec_docstring_says_when_what_and_shows_an_example(name):
    doc = inspect.getdoc(SPECS[name])
    assert doc, f"hook {name!r} has no docstring: document it in its spec"
    summary = doc.splitlines()[0]
    assert summary.endswith(".") and ". " not in summary, (
        f"the first line of {name}'s docstring must be a one-sentence summary, not {summary!r}")
    for part in ("**When**", "**Arguments**", "**Returns**"):
        assert part in doc, f"the docstring of {name} does not say {part}"
    examples = python_blocks(doc)
    assert any("@hookimpl" in block and f"def {name}(" in block for block in examples), (
        f"the docstring of {name} has no ```python example implementing it with @hookimpl")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_examples_import_guidepath_core_only_through_the_partner_module(name):
    for block in python_blocks(inspect.getdoc(SPECS[name]) or ""):
        bad = {m for m in guidepath_imports(block) if m.startswith("guidepath.core") and m != PARTNER_MODULE}
        assert not bad, f"the example of {name} imports {sorted(bad)}: import from {PARTNER_MODULE}"


# -- the docs show them ---------------------------------------------------------------------


def test_the_hook_reference_is_generated_from_the_docstrings():
    """The drift test: the docs hold exactly what the generator renders."""
    expected = reference.render(MANAGER)
    actual = generated_region(TEXT)
    if actual != expected:
        diff = "".join(list(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            "docs/plugins.md", "rendered from the docstrings"))[:60])
        pytest.fail("docs/plugins.md's Hook reference is stale: run `make docs` "
                    f"(python -m guidepath.core.plugins.reference) and commit the result\n{diff}")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_has_a_section_in_the_docs(name):
    assert name in SECTIONS, (
        f"hook {name!r} has no section in docs/plugins.md: document it in its spec's docstring "
        "and run `make docs`")


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_documented_hook_exists(name):
    assert name in SPECS, f"docs/plugins.md documents {name!r}, which no loaded hook spec declares"


@pytest.mark.parametrize("name", sorted(set(SPECS) & set(SECTIONS)))
def test_each_section_is_headed_by_the_exact_signature_and_shows_the_docstring(name):
    heading, body = SECTIONS[name]
    assert heading == signature_of(SPECS[name])
    assert body.strip() == inspect.getdoc(SPECS[name]).strip()


def test_the_python_examples_are_valid_python():
    blocks = python_blocks(TEXT)
    assert len(blocks) >= len(SPECS)
    for number, block in enumerate(blocks, 1):
        compile(block, f"docs/plugins.md python block {number}", "exec")


def guidepath_imports(block: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(block)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("guidepath.")}
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("guidepath."):
            names.add(node.module)
    return names


def test_the_docs_teach_plugins_to_import_from_the_partner_module_only():
    for number, block in enumerate(python_blocks(TEXT), 1):
        bad = {m for m in guidepath_imports(block)
               if m.startswith("guidepath.core") and m != PARTNER_MODULE} - APPLICATION_WIRING
        assert not bad, f"docs/plugins.md python block {number} imports {sorted(bad)}: use {PARTNER_MODULE}"


def test_what_the_examples_import_from_guidepath_exists():
    for number, block in enumerate(python_blocks(TEXT), 1):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("guidepath."):
                module = importlib.import_module(node.module)
                missing = [a.name for a in node.names if not hasattr(module, a.name)]
                assert not missing, f"docs/plugins.md python block {number}: {node.module} has no {missing}"


def test_the_complete_example_is_the_example_plugin_as_it_is():
    section = TEXT[TEXT.index("\n## The complete example\n"):]
    block = python_blocks(section)[0]
    assert block == EXAMPLE_PLUGIN.read_text(encoding="utf-8"), (
        "docs/plugins.md's 'The complete example' differs from "
        "examples/guidepath-hello/guidepath_hello/__init__.py: copy the file into it")



def test_the_partner_module_table_lists_exactly_its_names():
    from guidepath.core import plugin_api

    section = TEXT[TEXT.index("\n## The partner module\n"):TEXT.index("\n## How plugins are found")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| for ")]
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", "".join(row.split("|")[2] for row in rows)))
    assert listed == set(plugin_api.__all__), (
        "docs/plugins.md's table of the partner module differs from plugin_api.__all__: "
        f"missing {sorted(set(plugin_api.__all__) - listed)}, not exported {sorted(listed - set(plugin_api.__all__))}")

# -- the generator ----------------------------------------------------------------------------


def test_the_generator_rewrites_a_stale_reference_and_check_then_passes(tmp_path, capsys):
    stale = tmp_path / "plugins.md"
    stale.write_text(f"# Plugins\n\n{reference.START}\nold text\n{reference.END}\nafter\n", encoding="utf-8")

    assert reference.main(["--check", "--docs", str(stale)]) == 1
    assert "make docs" in capsys.readouterr().err
    assert "old text" in stale.read_text(encoding="utf-8")  # --check changes nothing

    assert reference.main(["--docs", str(stale)]) == 0
    rewritten = stale.read_text(encoding="utf-8")
    assert rewritten.startswith("# Plugins\n\n") and rewritten.endswith(f"{reference.END}\nafter\n")
    assert generated_region(rewritten) == reference.render(MANAGER)
    assert reference.main(["--check", "--docs", str(stale)]) == 0


def test_the_generator_refuses_a_file_without_its_markers(tmp_path, capsys):
    plain = tmp_path / "plugins.md"
    plain.write_text("# Plugins\n", encoding="utf-8")
    assert reference.main(["--check", "--docs", str(plain)]) == 2
    assert reference.START in capsys.readouterr().err


def test_the_generator_refuses_a_hook_without_a_docstring():
    def undocumented_hook(tenant: str) -> None:
        pass

    with pytest.raises(ValueError, match="undocumented_hook has no docstring"):
        reference.section(undocumented_hook)


def test_importing_the_plugin_package_and_the_generator_does_not_import_flask():
    code = ("import sys, guidepath.core.plugins, guidepath.core.plugins.reference; "
            "sys.exit('flask' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
