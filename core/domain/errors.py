"""Domain errors. Each maps to one HTTP status and the stable JSON error shape
``{"error": {"code", "message", "field"}}`` in the web layer; the CLI prints them."""

from __future__ import annotations


class DomainError(Exception):
    """An error the caller can fix, with a message written for them.

    The web layer answers it with :attr:`status` and the stable body
    ``{"error": {"code", "message", "field"}}``; the CLI prints the message. A
    plugin raises one (usually a subclass: :class:`Invalid`, :class:`NotFound`,
    :class:`Conflict`…) to refuse with a reason; any other exception from a
    plugin is a bug, logged with the plugin's name::

        raise Invalid("greeting must not be empty", field="greeting")
    """

    status = 400
    code = "bad_request"
    #: Extra fields for the error body beside code, message and field (for
    #: example ``{"issues": [...]}``); subclasses set it per instance.
    details: dict = {}

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class Invalid(DomainError):
    status = 422
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Locked(DomainError):
    status = 429
    code = "locked"


class Unavailable(DomainError):
    """A backend the request needs is not there right now (retrying later may work)."""

    status = 503
    code = "unavailable"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(DomainError):
    """The body's content type is not one the endpoint takes (the message names them)."""

    status = 415
    code = "unsupported_media_type"
