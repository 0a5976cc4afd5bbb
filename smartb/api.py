"""API plumbing shared by every app: the JSON error body and domain-error mapping, and
`operation`, the declaration of a view method (its schema and its answer).

Every error leaves the API as `{"error": {"code": "...", "message": "..."}}` with the
right status (400/401/403/404/405/409/429), never as an HTML 500 page.
"""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBase
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ledger.errors import LedgerError


class BoundedJSONParser(JSONParser):
    """JSON nested deeper than Python can parse is a 400 like any other bad JSON, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None


# The error body in the schema (`ApiError`), and an operation's documented answers.
ErrorOutput = inline_serializer(
    "ApiError",
    {
        "error": inline_serializer(
            "ApiErrorBody",
            {
                "code": serializers.CharField(help_text="stable, e.g. not_allowed, vote_closed"),
                "message": serializers.CharField(help_text="in the caller's language"),
                "details": serializers.JSONField(
                    required=False, help_text="the invalid fields, on a 400"
                ),
            },
        )
    },
)


def answers(ok_status: int, ok, *error_statuses: int) -> dict:
    """An operation's responses: its success and the JSON error body for each refusal."""
    return {ok_status: ok, **{code: ErrorOutput for code in error_statuses}}


def operation(**schema):
    """Declare an API view method: its schema, given to drf-spectacular's `extend_schema` as
    it is, and its answer, which follows the schema.

    The method parses its input (`parsed`), checks, calls one service or selector and returns
    the object (or the list, for a `many=True` serializer) that the documented success answer
    serializes: the first of `responses`, e.g. `answers(201, ClaimOutput, 400, 404)`. It goes
    out as that serializer's data with that status. A method that makes its own answer (a
    paginated page, a file, a context for the serializer) returns it as is.

    Errors need nothing more: domain errors, a 400 from `parsed`, 401/403/404 all leave as
    `{"error": ...}` through `exception_handler`.
    """
    responses = schema["responses"]
    ok, documented = (
        next(iter(responses.items())) if isinstance(responses, dict) else (200, responses)
    )

    def answer(value) -> Response:
        if isinstance(documented, serializers.ListSerializer):
            return Response(type(documented.child)(value, many=True).data, status=ok)
        if isinstance(documented, type) and issubclass(documented, serializers.BaseSerializer):
            return Response(documented(value).data, status=ok)
        raise TypeError(f"{documented!r} does not serialize an answer: return a Response")

    def declare(method):
        @functools.wraps(method)
        def answered(view, request, *args, **kwargs):
            value = method(view, request, *args, **kwargs)
            return value if isinstance(value, HttpResponseBase) else answer(value)

        return extend_schema(**schema)(answered)

    return declare


def parsed(serializer_class, data, **kwargs) -> dict:
    """The validated input of a request body, or a 400 with the serializer's errors."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def error_response(code: str, message, http_status: int, details=None) -> Response:
    body = {"error": {"code": code, "message": str(message)}}
    if details is not None:
        body["error"]["details"] = details
    return Response(body, status=http_status)


def _domain_error(exc):
    """Domain errors of any app: an exception with `code`, `status` and `message`."""
    if isinstance(exc, LedgerError) or (
        hasattr(exc, "code") and hasattr(exc, "status") and hasattr(exc, "message")
    ):
        return error_response(exc.code, exc.message, exc.status)
    return None


def exception_handler(exc, context):
    domain = _domain_error(exc)
    if domain is not None:
        return domain
    if isinstance(exc, ValidationError):
        return error_response("invalid", "; ".join(exc.messages), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        message = _first_message(response.data)
        return error_response("invalid", message, response.status_code, details=response.data)
    code = getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", None) or str(exc)
    new = error_response(str(code), detail, response.status_code)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            new[header] = response[header]
    return new


def _first_message(data) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)
