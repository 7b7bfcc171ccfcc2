"""A run as a value: :class:`RunState` and what it is made of, and the runner's errors.

Everything the runner knows about a run is in one immutable, JSON-safe value
(:meth:`RunState.to_dict` and :meth:`RunState.from_dict` round-trip it for
storage): where it waits, the innermost path's variables and answers, the
history, the subpaths it is inside (:class:`Frame`), where :func:`.runner.back`
may return to (:class:`Checkpoint`) and the subpath documents it pinned. The
errors map onto the API's ``{"error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, get_args

__all__ = [
    "FINISHED_STATUSES",
    "RUN_STATUSES",
    "AnswerError",
    "Checkpoint",
    "Frame",
    "HistoryEntry",
    "HistoryEvent",
    "RunDocumentError",
    "RunState",
    "RunStatus",
    "RunnerError",
]

RunStatus = Literal["waiting_answer", "waiting_action", "waiting_app", "in_subpath", "completed", "abandoned"]
HistoryEvent = Literal["entered", "answered", "completed", "back"]

#: Every status a run can have: the four it waits in, then the two it ends in.
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
#: The statuses of a run that is over.
FINISHED_STATUSES: tuple[RunStatus, ...] = ("completed", "abandoned")

_STATE_FORMAT = 1


class RunnerError(Exception):
    """Base of the runner's errors; ``code``, ``message`` and ``field`` map
    onto the API's ``{"error": {"code", "message", "field"}}``."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, field={self.field!r})"


class AnswerError(RunnerError):
    """The caller sent something this run cannot take (a 4xx): an answer to a
    step that is not current, of the wrong type, failing the question's
    rules, or anything at all for a finished run. Nothing changed."""


class RunDocumentError(RunnerError):
    """The document cannot be run from here: a step or subpath is missing,
    a rule fails at run time, or the run loops without waiting. Publishing
    validation prevents these; they mean the document or a subpath changed
    in a way validation could not see."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One thing that happened. ``path_id`` is the path that owns ``step_id``
    (the run's own path, or a subpath)."""

    step_id: str
    event: HistoryEvent
    at: str
    value: Any = None
    path_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"step_id": self.step_id, "event": self.event, "at": self.at,
                "value": self.value, "path_id": self.path_id}


@dataclass(frozen=True, slots=True)
class Frame:
    """A subpath being run, and what its parent was doing when it was entered."""

    path_id: str
    version: int
    parent_step: str
    parent_variables: dict[str, Any]
    parent_answers: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"path_id": self.path_id, "version": self.version, "parent_step": self.parent_step,
                "parent_variables": self.parent_variables, "parent_answers": self.parent_answers}

    @property
    def document_key(self) -> str:
        return f"{self.path_id}@{self.version}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where the run was just before an interactive step was answered, so
    :func:`back` can return there exactly."""

    step_id: str
    status: RunStatus
    variables: dict[str, Any]
    answers: dict[str, Any]
    stack: tuple[Frame, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"step_id": self.step_id, "status": self.status, "variables": self.variables,
                "answers": self.answers, "stack": [frame.to_dict() for frame in self.stack]}


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything about a run, as a JSON-safe immutable value.

    ``path_id``/``version`` are the path the run was started on (pinned).
    ``current_step`` is the step the run waits on, in the innermost running
    path (see :attr:`current_path_id`). ``variables`` and ``answers`` are the
    innermost path's. ``documents`` holds the subpath documents the run
    entered, keyed ``"path_id@version"``.
    """

    path_id: str
    version: int
    status: RunStatus
    current_step: str | None
    variables: dict[str, Any]
    answers: dict[str, Any]
    history: tuple[HistoryEntry, ...] = ()
    outcome: str | None = None
    stack: tuple[Frame, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    documents: dict[str, dict] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def current_path_id(self) -> str:
        """The path ``current_step`` belongs to (a subpath while inside one)."""
        return self.stack[-1].path_id if self.stack else self.path_id

    @property
    def current_version(self) -> int:
        return self.stack[-1].version if self.stack else self.version

    @property
    def can_go_back(self) -> bool:
        return bool(self.checkpoints) and not self.finished

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy for persistence (no shared references)."""
        data = {
            "format": _STATE_FORMAT,
            "path_id": self.path_id,
            "version": self.version,
            "status": self.status,
            "current_step": self.current_step,
            "variables": self.variables,
            "answers": self.answers,
            "history": [entry.to_dict() for entry in self.history],
            "outcome": self.outcome,
            "stack": [frame.to_dict() for frame in self.stack],
            "checkpoints": [checkpoint.to_dict() for checkpoint in self.checkpoints],
            "documents": self.documents,
        }
        return json.loads(json.dumps(data, allow_nan=False))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """Rebuild a state saved with :meth:`to_dict`; ``ValueError`` if it is not one."""
        try:
            if data.get("format", _STATE_FORMAT) != _STATE_FORMAT:
                raise ValueError(f"unknown run state format {data.get('format')!r}")
            status = data["status"]
            if status not in RUN_STATUSES:
                raise ValueError(f"unknown run status {status!r}")
            data = copy.deepcopy(dict(data))
            return cls(
                path_id=str(data["path_id"]),
                version=int(data["version"]),
                status=status,
                current_step=data["current_step"],
                variables=dict(data["variables"]),
                answers=dict(data["answers"]),
                history=tuple(HistoryEntry(**entry) for entry in data.get("history", ())),
                outcome=data.get("outcome"),
                stack=tuple(Frame(**frame) for frame in data.get("stack", ())),
                checkpoints=tuple(
                    Checkpoint(**{**cp, "stack": tuple(Frame(**f) for f in cp.get("stack", ()))})
                    for cp in data.get("checkpoints", ())
                ),
                documents=dict(data.get("documents", {})),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a saved run state: {exc!r}") from None
