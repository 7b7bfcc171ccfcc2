"""Every hook is documented in docs/plugins.md, under its exact signature.

datasette's rule: adding a hook without documenting it fails the build, and so
does documenting a hook that does not exist. The heading of each section is the
hook's signature as written in ``guidepath.core.hookspecs``, so a changed
signature fails too until the documentation follows.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from guidepath.core import hookspecs
from guidepath.core.plugins import PluginManager
from guidepath.core.plugins.markers import PROJECT_NAME

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"

# "### `register_routes() -> list[Blueprint]`"
HOOK_HEADING = re.compile(r"^### `(?P<signature>(?P<name>[A-Za-z_][A-Za-z0-9_]*)\(.*)`[ \t]*$", re.MULTILINE)


def spec_functions() -> dict[str, Callable[..., Any]]:
    marker = f"{PROJECT_NAME}_spec"
    return {name: fn for name, fn in vars(hookspecs).items()
            if inspect.isfunction(fn) and hasattr(fn, marker)}


def signature_of(fn: Callable[..., Any]) -> str:
    """``name(arg: Type, …) -> Return``, from the annotations as written (they are
    strings: hookspecs uses ``from __future__ import annotations``)."""
    sig = inspect.signature(fn)
    params = []
    for param in sig.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{fn.__name__}: {param.name} has no type"
        params.append(f"{param.name}: {param.annotation}")
    assert sig.return_annotation is not inspect.Signature.empty, f"{fn.__name__} has no return type"
    return f"{fn.__name__}({', '.join(params)}) -> {sig.return_annotation}"


def documented_sections() -> dict[str, tuple[str, str]]:
    """hook name -> (signature in the heading, text of the section)."""
    text = DOCS.read_text(encoding="utf-8")
    matches = list(HOOK_HEADING.finditer(text))
    sections: dict[str, tuple[str, str]] = {}
    for match, following in zip(matches, [*matches[1:], None]):
        end = following.start() if following else len(text)
        next_chapter = re.search(r"^#{1,2} ", text[match.end():end], re.MULTILINE)
        if next_chapter:
            end = match.end() + next_chapter.start()
        name = match["name"]
        assert name not in sections, f"docs/plugins.md documents {name} twice"
        sections[name] = (match["signature"], text[match.end():end])
    return sections


SPECS = spec_functions()
SECTIONS = documented_sections()


def test_the_hookspecs_module_declares_hooks():
    assert "register_routes" in SPECS and "handle_event" in SPECS
    # The manager registers exactly these: nothing is added behind the module's back.
    assert PluginManager().hook_names() == sorted(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_has_a_section_in_the_docs(name):
    assert name in SECTIONS, (
        f"hook {name!r} has no section in docs/plugins.md: add one under 'Hook reference' "
        f"headed '### `{signature_of(SPECS[name])}`'"
    )


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_documented_hook_exists(name):
    assert name in SPECS, f"docs/plugins.md documents {name!r}, which is not a hook in guidepath.core.hookspecs"


@pytest.mark.parametrize("name", sorted(set(SPECS) & set(SECTIONS)))
def test_each_section_is_headed_by_the_exact_signature(name):
    heading, _ = SECTIONS[name]
    assert heading == signature_of(SPECS[name])


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_each_section_says_when_what_and_shows_an_example(name):
    _, body = SECTIONS[name]
    for part in ("**When**", "**Arguments**", "**Returns**"):
        assert part in body, f"the section of {name} does not say {part}"
    assert "```python" in body and "@hookimpl" in body and f"def {name}(" in body, (
        f"the section of {name} has no example implementing it"
    )


def test_the_python_examples_in_the_docs_are_valid_python():
    blocks = re.findall(r"^```python\n(.*?)^```", DOCS.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert len(blocks) >= len(SPECS)
    for number, block in enumerate(blocks, 1):
        compile(block, f"docs/plugins.md python block {number}", "exec")
