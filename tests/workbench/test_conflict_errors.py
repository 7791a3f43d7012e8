"""workbench.errors.ConflictError: the API answers any app's conflict refusal the same way.

The global handler knows only the base class; the mitigation workflow's refusals subclass it and
keep their documented bodies (tests/mitigations/test_transitions_api.py, test_revision_binding.py).
"""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from mitigations.workflow import InvalidTransition, StaleRevision
from workbench.api.errors import api_exception_handler
from workbench.errors import ConflictError


class Busy(ConflictError):
    code = "busy"

    def extra(self) -> dict[str, Any]:
        return {"retry_after": 3}


def _answer(exc: Exception) -> tuple[int, Any]:
    request = APIView().initialize_request(APIRequestFactory().post("/api/v1/x/"))
    response = api_exception_handler(exc, {"request": request, "view": APIView()})
    assert response is not None
    return response.status_code, response.data


def test_any_conflict_error_is_a_409_with_its_code_and_extra_fields() -> None:
    assert _answer(Busy("Someone else is writing.")) == (
        409,
        {"detail": "Someone else is writing.", "code": "busy", "retry_after": 3},
    )


def test_the_workflow_refusals_are_conflict_errors_with_unchanged_bodies() -> None:
    assert issubclass(InvalidTransition, ConflictError)
    assert _answer(InvalidTransition("No.", "approved")) == (
        409,
        {"detail": "No.", "code": "invalid_transition", "status": "approved"},
    )
    status, body = _answer(StaleRevision("Moved on.", "proposed", 4, "abc"))
    assert status == 409
    assert list(body.items()) == [
        ("detail", "Moved on."),
        ("code", "stale_revision"),
        ("status", "proposed"),
        ("revision", 4),
        ("content_hash", "abc"),
    ]
