"""A Guided Path as a picture: the document as Graphviz DOT, laid out by ``dot -Tsvg``.

The admin console's graph view (``/admin/guided-paths/{ref}/graph``) shows the SVG
inline. Graphviz is a system package (Debian ``graphviz``), not a Python
dependency: without ``dot`` on the ``PATH`` :func:`render_svg` raises
:class:`GraphUnavailable` and the page says how to install it.

Nothing from the document reaches the picture unescaped, on three levels:

* node and edge names are ``n0``, ``n1``… — never a step id — so the comments and
  ``<title>`` elements dot writes carry no document text;
* every label is a DOT quoted string with ``\\``, ``"`` and line breaks escaped
  (:func:`dot_string`), so a title cannot end the string or add attributes;
* dot XML-escapes label text in the SVG, and :func:`clean_svg` parses the result
  and writes back only the elements and attributes a drawing needs (no script, no
  event handler, no link), so even a dot bug cannot put markup in the page.

``dot`` runs with a timeout (:data:`DOT_TIMEOUT`) and a document of more than
:data:`MAX_NODES` steps is drawn without labels' details, to keep layout fast.

Example::

    svg = render_svg(to_dot(document, issues=issues))
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from typing import Any, Iterable, Mapping

from .sansio.rendering import localize

DOT_TIMEOUT = 10.0
MAX_NODES = 2000
MAX_LABEL = 48
MAX_SVG_BYTES = 20 * 1024 * 1024

#: Fill colours by step type (ends by outcome); shapes by type.
COLOURS = {
    "message": "#dbe6ff", "question": "#fff1c2", "decision": "#ffe0c7", "action": "#d9f2e1",
    "app": "#eadcff", "subpath": "#d6f3f7",
}
END_COLOURS = {"resolved": "#8fd9a8", "unresolved": "#d5d9e2", "escalate": "#f6b0b0"}
SHAPES = {"decision": "diamond", "end": "doublecircle", "subpath": "component", "app": "box3d"}
ISSUE_COLOUR = "#c21f1f"


class GraphUnavailable(RuntimeError):
    """``dot`` is not installed, failed, or took too long; the message says which."""


def dot_string(text: str) -> str:
    """``text`` as a DOT quoted string: backslashes and quotes escaped, line breaks as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{escaped}"'


def _short(text: Any, limit: int = MAX_LABEL) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rule_text(rule: Any) -> str:
    """A JsonLogic rule, readable: ``answers.ask === "other"``; anything unusual as JSON."""
    if isinstance(rule, Mapping) and len(rule) == 1:
        (operator, args), = rule.items()
        if operator == "var":
            name = args[0] if isinstance(args, list) and args else args
            return str(name)
        if isinstance(args, list) and len(args) == 2 and operator in {
                "==", "===", "!=", "!==", "<", "<=", ">", ">=", "in", "and", "or", "+", "-", "*", "/", "%"}:
            return f"{rule_text(args[0])} {operator} {rule_text(args[1])}"
        if operator in ("!", "!!"):
            inner = args[0] if isinstance(args, list) and args else args
            return f"{operator}{rule_text(inner)}"
    return json.dumps(rule, ensure_ascii=False, separators=(",", ":"))


def _text(value: Any, locale: str | None, locales: Any) -> str:
    found = localize(value, locale, locales)
    return found if isinstance(found, str) else ""


def _edges(step: Mapping[str, Any], locale: str | None, locales: Any) -> Iterable[tuple[Any, str, str]]:
    """``(target, label, style)`` of every way out of ``step``."""
    kind = step.get("type")
    if kind == "decision":
        for branch in step.get("branches") or []:
            if isinstance(branch, Mapping):
                yield branch.get("next"), _short(rule_text(branch.get("when")), 60), "solid"
        if "default" in step:
            yield step.get("default"), "otherwise", "solid"
        return
    if "next" in step:
        label = ""
        if kind == "question" and isinstance(step.get("options"), list):
            label = " / ".join(_text(o.get("label"), locale, locales) or str(o.get("value"))
                               for o in step["options"] if isinstance(o, Mapping))
        elif kind == "question" and step.get("kind") == "yes_no":
            label = "yes / no"
        yield step.get("next"), _short(label, 60), "solid"
    if kind == "action" and "on_error" in step:
        yield step.get("on_error"), "on error", "dashed"


def _label(step_id: str, step: Mapping[str, Any], locale: str | None, locales: Any, detailed: bool) -> str:
    kind = step.get("type") if isinstance(step.get("type"), str) else "?"
    lines = [step_id, f"[{kind}{' · ' + str(step.get('outcome')) if kind == 'end' else ''}]"]
    if detailed:
        text = (_text(step.get("title"), locale, locales) or _text(step.get("prompt"), locale, locales)
                or _text(step.get("text"), locale, locales) or _text(step.get("message"), locale, locales))
        if kind == "action":
            text = text or str(step.get("action") or "")
        elif kind == "app":
            text = text or str(step.get("app_id") or "")
        elif kind == "subpath":
            text = text or f"→ {step.get('path_id')}"
        if text:
            lines.append(_short(text))
    return "\n".join(lines)


def steps_with_issues(issues: Iterable[Mapping[str, Any]]) -> set[str]:
    """The step ids that issues point into (``/steps/<id>/…``; RFC 6901 unescaped)."""
    found = set()
    for issue in issues:
        parts = str(issue.get("pointer", "")).split("/")
        if len(parts) >= 3 and parts[1] == "steps":
            found.add(parts[2].replace("~1", "/").replace("~0", "~"))
    return found


def to_dot(document: Any, *, locale: str | None = None, issues: Iterable[Mapping[str, Any]] = ()) -> str:
    """The document's steps and their ways out as a DOT digraph (what ``dot`` lays out).

    Targets that name no step are drawn as a red "missing" node, so a broken draft
    still shows where it is broken; steps with issues have a red border."""
    document = document if isinstance(document, Mapping) else {}
    steps = document.get("steps") if isinstance(document.get("steps"), Mapping) else {}
    locales = document.get("locales")
    broken = steps_with_issues(issues)
    names = {step_id: f"n{index}" for index, step_id in enumerate(steps)}
    detailed = len(steps) <= MAX_NODES
    out = [
        "digraph path {",
        '  graph [rankdir=TB, fontname="Helvetica", bgcolor="transparent", nodesep=0.35, ranksep=0.45];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, color="#5a6478", '
        'fillcolor="#ffffff", margin="0.15,0.06"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#5a6478", fontcolor="#3a4256", arrowsize=0.7];',
        '  start [shape=circle, label="", width=0.22, style=filled, fillcolor="#1d2433", color="#1d2433", '
        'tooltip="start"];',
    ]
    missing: dict[str, str] = {}

    def target(step_id: Any) -> str:
        if isinstance(step_id, str) and step_id in names:
            return names[step_id]
        key = json.dumps(step_id, ensure_ascii=False)
        if key not in missing:
            missing[key] = f"m{len(missing)}"
            out.append(f"  {missing[key]} [label={dot_string('missing: ' + _short(key))}, shape=box, "
                       f'style="dashed", color="{ISSUE_COLOUR}", fontcolor="{ISSUE_COLOUR}"];')
        return missing[key]

    for step_id, step in steps.items():
        step = step if isinstance(step, Mapping) else {}
        kind = step.get("type")
        fill = END_COLOURS.get(step.get("outcome"), "#ffffff") if kind == "end" else COLOURS.get(kind, "#ffffff")
        style = "rounded,filled" if kind in COLOURS or kind == "end" else "rounded,filled,dashed"
        attributes = [f"label={dot_string(_label(step_id, step, locale, locales, detailed))}",
                      f'fillcolor="{fill}"', f'style="{style}"', f"id={dot_string('step-' + names[step_id])}",
                      f"tooltip={dot_string(_short(step_id, 200))}"]
        if kind in SHAPES:
            attributes.append(f"shape={SHAPES[kind]}")
        if step_id in broken:
            attributes += [f'color="{ISSUE_COLOUR}"', "penwidth=2.2"]
        out.append(f"  {names[step_id]} [{', '.join(attributes)}];")
    if "start" in document:
        out.append(f"  start -> {target(document.get('start'))};")
    for step_id, step in steps.items():
        if not isinstance(step, Mapping):
            continue
        for to, label, style in _edges(step, locale, locales):
            extra = f", style={style}, color=\"{ISSUE_COLOUR}\"" if style == "dashed" else ""
            out.append(f"  {names[step_id]} -> {target(to)} [label={dot_string(label)}{extra}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_svg(dot: str, *, timeout: float = DOT_TIMEOUT) -> str:
    """Lay ``dot`` out with Graphviz; the SVG element, cleaned (:func:`clean_svg`)."""
    program = shutil.which("dot")
    if program is None:
        raise GraphUnavailable("Graphviz is not installed on this server: the graph view needs its `dot` "
                               "program (Debian/Ubuntu: apt-get install graphviz).")
    try:
        done = subprocess.run([program, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphUnavailable(f"Graphviz took longer than {timeout:g} s to lay this path out; "
                               "split it into subpaths.") from None
    if done.returncode != 0 or len(done.stdout) > MAX_SVG_BYTES:
        detail = done.stderr.decode("utf-8", "replace").strip()[:300]
        raise GraphUnavailable(f"Graphviz could not draw this path ({detail or 'exit ' + str(done.returncode)}).")
    return clean_svg(done.stdout)


SVG_NS = "http://www.w3.org/2000/svg"
_ELEMENTS = {"svg", "g", "title", "path", "polygon", "polyline", "ellipse", "text", "a"}
_ATTRIBUTES = {
    "width", "height", "viewBox", "transform", "id", "class", "fill", "stroke", "stroke-width",
    "stroke-dasharray", "points", "d", "cx", "cy", "rx", "ry", "x", "y", "text-anchor", "font-family",
    "font-size", "font-weight", "font-style",
}


def clean_svg(raw: bytes) -> str:
    """``raw`` SVG with only drawing elements and attributes (no script, handler, link or
    style), serialized again, so the text inside is escaped by the serializer."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise GraphUnavailable(f"Graphviz wrote an SVG that does not parse ({exc})") from None

    def copy(node: ET.Element) -> ET.Element | None:
        tag = node.tag.rsplit("}", 1)[-1]
        if tag not in _ELEMENTS:
            return None
        clean = ET.Element("g" if tag == "a" else tag,
                           {k: v for k, v in node.attrib.items() if k in _ATTRIBUTES})
        clean.text = node.text if tag in ("text", "title") else None
        for child in node:
            kept = copy(child)
            if kept is not None:
                clean.append(kept)
                kept.tail = None
        return clean

    svg = copy(root)
    if svg is None:
        raise GraphUnavailable("Graphviz wrote no SVG")
    svg.set("xmlns", SVG_NS)
    svg.set("role", "img")
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)
