"""How big a Guided Path document, and what is in it, may be.

The limits keep validation, storage and runs cheap, and a hostile document from
costing more than a normal one. Validation enforces them; the runner uses the
same nesting and answer-length caps for what it accepts during a run; the
plugin lets a tenant lower ``max_document_bytes`` in its settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rule_language import MAX_RULE_DEPTH, MAX_RULE_NODES

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits. They keep validation, storage and runs cheap and keep a
    hostile document from costing more than a normal one."""

    max_document_bytes: int = 2 * 1024 * 1024
    max_nesting: int = 64
    max_steps: int = 10_000
    max_variables: int = 1_000
    max_title_length: int = 200
    max_text_length: int = 20_000
    max_label_length: int = 500
    max_options: int = 200
    max_branches: int = 200
    max_rule_depth: int = MAX_RULE_DEPTH
    max_rule_nodes: int = MAX_RULE_NODES
    max_pattern_length: int = 500
    max_answer_length: int = 10_000
    max_issues: int = 1_000


DEFAULT_LIMITS = Limits()
