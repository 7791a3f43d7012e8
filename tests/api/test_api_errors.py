"""API v1 error answers: one body shape for every status, anonymous throttling, CSRF for sessions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.test import RequestFactory
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from workbench.api.errors import api_exception_handler

pytestmark = pytest.mark.django_db


def shape(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) <= {"detail", "code", "errors"}
    assert isinstance(body["detail"], str)
    assert isinstance(body["code"], str)
    return body


def test_every_error_status_has_the_same_shape(api_as, elements):
    system = elements.system
    asset = f"/api/v1/systems/{system.slug}/assets/{elements.asset.pk}/"
    editor = api_as("editor")
    answers = {
        400: editor.post(f"/api/v1/systems/{system.slug}/assets/", {"kind": "toaster"}, format="json"),
        401: api_as(None, None).get(asset),
        403: api_as("viewer").delete(asset),
        404: api_as("outsider").get(asset),
        405: editor.put(asset, {}, format="json"),
        412: editor.patch(asset, {"name": "x"}, format="json", HTTP_IF_MATCH='"old"'),
        415: editor.post(f"/api/v1/systems/{system.slug}/zones/", "x", content_type="text/csv"),
    }
    codes = {}
    for status, response in answers.items():
        assert response.status_code == status, (status, response.content)
        codes[status] = shape(response)["code"]

    assert codes == {
        400: "invalid",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        412: "precondition_failed",
        415: "unsupported_media_type",
    }
    assert set(shape(answers[400])["errors"]) == {"name", "kind"}


def test_service_errors_raised_by_django_are_mapped_too() -> None:
    field_errors = api_exception_handler(DjangoValidationError({"name": ["Bad."], "__all__": ["Both."]}), {})
    plain = api_exception_handler(DjangoValidationError("Nope."), {})
    race = api_exception_handler(IntegrityError("duplicate key"), {"request": RequestFactory().post("/")})
    read_bug = api_exception_handler(IntegrityError("datatype mismatch"), {"request": RequestFactory().get("/")})

    assert field_errors is not None
    assert plain is not None
    assert race is not None
    assert (field_errors.status_code, field_errors.data["errors"]) == (
        400,
        {"name": ["Bad."], "non_field_errors": ["Both."]},
    )
    assert plain.data == {"detail": "Invalid input.", "code": "invalid", "errors": {"non_field_errors": ["Nope."]}}
    assert (race.status_code, race.data["code"]) == (409, "conflict")
    assert "duplicate key" not in race.data["detail"]
    assert read_bug is None  # a read that trips a constraint is a bug, left to be a 500


@pytest.mark.parametrize("params", [{"limit": str(10**27)}, {"offset": str(10**27)}, {"limit": "5", "offset": "-3"}])
def test_huge_page_numbers_on_offset_listings_are_harmless(api_as, system, params):
    response = api_as("viewer").get(f"/api/v1/systems/{system.slug}/audit/", params)

    assert response.status_code == 200
    assert len(response.json()["results"]) <= 1000


def test_unknown_api_paths_answer_json(api_as, system):
    for path in ("/api/v1/nothing/", "/api/v1/systems/x/y/z/", "/api/v1/systems"):
        response = api_as("editor").get(path)
        assert response.status_code == 404
        assert shape(response)["code"] == "not_found"


@pytest.fixture
def tight_rates(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute"},
    }


def test_anonymous_callers_are_throttled_by_address_where_they_are_let_in(tight_rates, system):
    # Protected endpoints refuse anonymous callers (401) before throttling; open ones count them.
    client = APIClient()

    assert [client.get("/api/v1/no-such-thing/").status_code for _ in range(3)] == [404, 404, 429]


def test_session_writes_need_the_csrf_token(editor, system, nothing_written):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)
    zones = f"/api/v1/systems/{system.slug}/zones/"
    with nothing_written(system):
        refused = client.post(zones, {"name": "DMZ"}, format="json")

    assert refused.status_code == 403
    assert "CSRF" in shape(refused)["detail"]
    client.get("/accounts/login/")  # any page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(zones, {"name": "DMZ"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_token_requests_need_no_csrf_token(editor, system):
    client = client_for(editor, "token")
    client.handler.enforce_csrf_checks = True

    response = client.post(f"/api/v1/systems/{system.slug}/zones/", {"name": "DMZ"}, format="json")

    assert response.status_code == 201
