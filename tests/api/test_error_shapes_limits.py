"""A body too large (413) and a server error (500) under /api/ answer in the API's error shape.

Before issue 13 (point 6) a body over Django's upload limit was Django's HTML "Bad Request"
page and an unexpected exception its HTML "Server Error" page.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client, RequestFactory

from tests.api.test_api_errors import shape
from workbench.api import views as api_views
from workbench.api.errors import bad_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(editor) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    return client


def test_a_body_over_the_upload_limit_is_a_json_413(editor_client, elements, settings, nothing_written):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000, "kind": "gpu_host"})

    with nothing_written(elements.system):
        response = editor_client.post(
            f"/api/v1/systems/{elements.system.slug}/assets/", data=body, content_type="application/json"
        )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert shape(response) == {
        "detail": "The request body exceeds 10,000 bytes; send fewer items per request.",
        "code": "payload_too_large",
    }


def test_a_form_body_over_the_upload_limit_is_a_json_413_too(editor_client, elements, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = editor_client.post(
        f"/api/v1/systems/{elements.system.slug}/plans/", data={"control": "M-X", "description": "d" * 20_000}
    )

    assert response.status_code == 413
    assert shape(response)["code"] == "payload_too_large"


def test_a_server_error_in_the_api_is_json_without_a_traceback_and_a_page_stays_html(
    editor_client, elements, monkeypatch
):
    from workbench.views import systems

    def broken(**kwargs: object) -> None:
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr(api_views.selectors, "system_list", broken)
    monkeypatch.setattr(systems.selectors, "system_list", broken)

    response = editor_client.get("/api/v1/systems/")
    page = editor_client.get("/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert shape(response) == {
        "detail": "The server failed to answer this request; it has been logged.",
        "code": "server_error",
    }
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_an_oversized_body_refused_outside_a_view_is_a_json_413_below_api() -> None:
    api = bad_request(RequestFactory().post("/api/v1/systems/"), RequestDataTooBig("too big"))
    page = bad_request(RequestFactory().post("/systems/new/"), RequestDataTooBig("too big"))

    assert api.status_code == 413
    assert json.loads(api.content)["code"] == "payload_too_large"
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
