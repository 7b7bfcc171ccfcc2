"""Guided Path documents, validation, the runner, their tables and API (issue 3).

Imports ``guidepath.core`` only; registered as a plugin through the
``guidepath.plugins`` entry-point group."""
