"""One error shape for every API v1 answer that is not a success.

Clients handle ``{"detail": str, "code": str, "errors": {...}}`` whatever went wrong: field
errors (400), authentication (401), role or token (403), scoping (404), a concurrent or
conflicting write (409), a stale ``If-Match`` (412), a body too large (413), a write that would
pass a system's size limit (422, ``workbench.services.limits``), throttling (429) and a server
error (500). ``errors`` is present only where there are field errors. Django's own
exceptions raised by services (``ValidationError``, ``PermissionDenied``, ``Http404``), a body
over Django's upload limit (``RequestDataTooBig``) and, on a write, a unique-constraint race
(``IntegrityError``) are mapped here, so views stay thin and never build error bodies by hand.
So is an app's refusal of a write that conflicts with the state it met (``workbench.errors.
ConflictError``, e.g. the mitigation workflow's ``InvalidTransition``): a 409 whose body adds the
exception's ``extra()`` fields (the refusing state ``status``; for a stale decision the plan's
current ``revision`` and ``content_hash``), so a client can re-read and decide again.

``bad_request`` and ``server_error`` are the project's ``handler400`` / ``handler500``: below
/api/ they answer in the same shape (a 500 names no exception and carries no traceback; the
exception is logged as usual), elsewhere Django's pages.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from workbench.errors import ConflictError
from workbench.services.limits import SystemLimitExceeded


class PreconditionFailed(exceptions.APIException):
    """``If-Match`` names another version of the resource than the current one."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it: fetch it again and retry with its new ETag."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The change conflicts with another one (for example a duplicate name); retry after reading."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class SystemTooLarge(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The system would pass its size limit; nothing was written."
    default_code = "system_too_large"


class ErrorSerializer(serializers.Serializer):
    """The documented error body (drf-spectacular uses it for every error response)."""

    detail = serializers.CharField(help_text="A sentence for people.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `not_found`, `invalid`.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a declared field, not Serializer.errors
        required=False,
        help_text="Field name (or `non_field_errors`) to a list of messages; only for invalid input.",
    )


def _django_validation_errors(exc: DjangoValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key): value
            for key, value in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _first_code(codes: Any) -> str:
    """DRF nests codes like the detail; the first leaf is the answer's code."""
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) and codes else "error"


def _conflict_body(exc: ConflictError) -> dict[str, Any]:
    """The 409 of a refused write (for plans: ``ConflictSerializer`` in ``mitigations.api``)."""
    return {"detail": str(exc), "code": exc.code, **exc.extra()}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, headers, rollback), then the body rewritten to the one shape."""
    if isinstance(exc, ConflictError):
        refused = exceptions.APIException()  # DRF's status, headers and rollback; the body is ours
        refused.status_code = exc.status_code
        response = drf_exception_handler(refused, context)
        if response is not None:
            response.data = _conflict_body(exc)
        return response
    if isinstance(exc, SystemLimitExceeded):
        errors = _django_validation_errors(exc)
        response = drf_exception_handler(SystemTooLarge(), context)
        if response is not None:
            first = next(iter(errors.values()), [SystemTooLarge.default_detail])
            response.data = {"detail": str(first[0]), "code": SystemTooLarge.default_code, "errors": errors}
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_errors(exc))
    elif isinstance(exc, IntegrityError):
        request = context.get("request")
        if request is None or request.method in SAFE_METHODS:
            return None  # a read that breaks a constraint is a bug: let it be a 500
        exc = Conflict()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(_upload_limit_detail())
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        response.data = {"detail": "Invalid input.", "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        response.data = {"detail": str(exc.detail), "code": _first_code(exc.get_codes())}
    return response


def _upload_limit_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return str(PayloadTooLarge.default_detail)
    return f"The request body exceeds {limit:,} bytes; send fewer items per request."


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: a refused request (e.g. an oversized body read by middleware)."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        body = {"detail": _upload_limit_detail(), "code": PayloadTooLarge.default_code}
        return JsonResponse(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    code = "suspicious_request" if isinstance(exception, SuspiciousOperation) else "bad_request"
    return JsonResponse({"detail": "The request could not be understood.", "code": code}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: JSON without any detail of the failure below /api/, the HTML page elsewhere."""
    if not _is_api(request):
        return defaults.server_error(request)
    body = {"detail": "The server failed to answer this request; it has been logged.", "code": "server_error"}
    return JsonResponse(body, status=500)
