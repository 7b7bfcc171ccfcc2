"""Guided Paths without IO: documents, rules, validation, the runner, what a run shows.

Everything here is a pure function of its arguments (the clock comes in as
``now``, subpath documents through a loader the caller passes), so it is tested
and benchmarked without a server or a database, and the JS SDK can be checked
against it case by case. The rest of the plugin is the IO side: it stores
documents and runs, serves the API and the run page, and calls in here.

It must never import Flask, werkzeug, SQLAlchemy, ``guidepath.core`` or the rest
of ``guidepath.guided_paths``; nor open files or sockets, read the clock or the
environment, or keep state in globals (constants and ``functools`` caches of
compiled schemas only). Its imports are the standard library's pure modules,
``jsonschema`` (``jsonschema-rs`` as an optional accelerator), ``json_logic``
(panzi-json-logic) and each other; ``tests/guided_paths/test_sansio_imports.py``
checks that. The one file it reads is package data: the published document
schema (``guided_paths/schema/guided-path.v1.json``), through
``importlib.resources``, once.

Example::

    from guidepath.guided_paths.sansio import StepTypeRegistry, runner, validate_document

    assert validate_document(doc, StepTypeRegistry.with_builtins()) == []
    state = runner.start(doc, version=1, now="2026-01-01T10:00:00Z")
"""

from __future__ import annotations

from .expressions import ExpressionError, evaluate, evaluate_template
from .issues import Issue
from .limits import DEFAULT_LIMITS, Limits
from .rendering import negotiate_locale, render_view
from .run_state import AnswerError, RunDocumentError, RunnerError, RunState
from .step_types import DuplicateStepTypeError, StepType, StepTypeRegistry
from .validation import validate_document

__all__ = [
    "DEFAULT_LIMITS",
    "AnswerError",
    "DuplicateStepTypeError",
    "ExpressionError",
    "Issue",
    "Limits",
    "RunDocumentError",
    "RunState",
    "RunnerError",
    "StepType",
    "StepTypeRegistry",
    "evaluate",
    "evaluate_template",
    "negotiate_locale",
    "render_view",
    "validate_document",
]
