"""One exception handler, so every error the API returns has the same body:

    {"status": 400, "code": "invalid", "detail": "…", "errors": {"field": ["message", …]}}

``errors`` maps field names (``non_field_errors`` for the request as a whole) to messages; it is
empty for errors that are not about the body. A 409 from a stale edit adds ``current_version``.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from engagements.services import EditConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


@contextmanager
def refusals_as_conflicts():
    """Around a state-transition service (close, answer, acknowledge…): its non-field ValidationError
    says the object's current state forbids the step (already closed, already answered), which is a
    409 for the caller to re-read, not a 400 to fix the body. Field errors stay 400."""
    try:
        yield
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise
        raise Conflict(" ".join(exc.messages), code="invalid_state") from exc


def django_errors_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A model's or a service's ValidationError, as the same field errors a serializer would give."""
    non_field = api_settings.NON_FIELD_ERRORS_KEY
    if hasattr(exc, "error_dict"):
        errors = {(non_field if field == "__all__" else field): messages
                  for field, messages in exc.message_dict.items()}
    else:
        errors = {non_field: exc.messages}
    return exceptions.ValidationError(errors)


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {api_settings.NON_FIELD_ERRORS_KEY: detail}
    return {api_settings.NON_FIELD_ERRORS_KEY: [detail]}


def exception_handler(exc, context):
    extra = {}
    if isinstance(exc, Http404):
        # One message for "does not exist" and "not yours", so a 404 tells nothing about other people's data.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = django_errors_to_drf(exc)
    elif isinstance(exc, EditConflict):
        extra["current_version"] = exc.current.version
        exc = Conflict(str(exc), code="stale_version")
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict(_("This cannot be deleted while other records depend on it."), code="in_use")
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # A real bug: let Django log it and answer 500.

    if isinstance(exc, exceptions.ValidationError):
        body = {"status": response.status_code, "code": "invalid",
                "detail": str(_("Some of the data sent is not valid.")), "errors": _field_errors(exc.detail)}
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"status": response.status_code, "code": code if isinstance(code, str) else "error",
                "detail": str(exc.detail) if isinstance(exc, exceptions.APIException) else "", "errors": {}}
    body.update(extra)
    return Response(body, status=response.status_code, headers=_kept_headers(response))


def _kept_headers(response) -> dict:
    # WWW-Authenticate (401) and Retry-After (429) tell the client what to do next.
    return {name: response[name] for name in ("WWW-Authenticate", "Retry-After") if response.has_header(name)}
