"""JSON errors with one stable shape: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..domain.errors import DomainError

log = logging.getLogger("guidepath.web")


def error_response(status: int, code: str, message: str, field: str | None = None, **details) -> Response:
    """``details`` add fields beside the stable three, e.g. ``issues`` listing every
    problem of a Guided Path document at once."""
    response = jsonify({"error": {"code": code, "message": message, "field": field, **details}})
    response.status_code = status
    return response


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    416: "range_not_satisfiable", 422: "invalid", 429: "too_many_requests",
}


def install(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.field, **exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        if status == 404:
            message = "not found"
        response = error_response(status, _HTTP_CODES.get(status, "error"), message)
        # The headers the status needs (405 Allow, 416 Content-Range, ...), not its HTML type.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; it has been logged")
