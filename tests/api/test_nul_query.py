"""A NUL character in a query string is a 400 everywhere, never a 500 (issue 13, point 6).

PostgreSQL refuses NUL in text, so a hand-read parameter such as the audit trail's ``verb``
failed inside the driver; the generated requests of tests/api/test_schemathesis.py found it.
"""

from __future__ import annotations

import pytest

from tests.api.test_api_errors import shape

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "param"),
    [("audit", "verb"), ("audit", "actor"), ("flows", "origin"), ("assets", "source"), ("assets", "tag")],
)
def test_an_api_parameter_with_nul_is_a_json_400(api_as, elements, path, param):
    client = api_as("viewer")
    client.raise_request_exception = False

    response = client.get(f"/api/v1/systems/{elements.system.slug}/{path}/", {param: "ab\x00cd"})

    assert response.status_code == 400, response.content
    assert shape(response)["code"] == "invalid"


def test_a_nul_in_a_parameter_name_is_refused_too(api_as, elements):
    client = api_as("viewer")
    client.raise_request_exception = False

    response = client.get(f"/api/v1/systems/{elements.system.slug}/assets/?a%00b=1")

    assert response.status_code == 400


def test_a_page_with_nul_in_its_query_is_a_plain_400(client_as, elements):
    client = client_as("viewer")
    client.raise_request_exception = False

    response = client.get(f"/systems/{elements.system.slug}/", {"q": "\x00"})

    assert response.status_code == 400
    assert b"NUL" in response.content


def test_a_clean_query_still_answers(api_as, elements):
    response = api_as("viewer").get(f"/api/v1/systems/{elements.system.slug}/audit/", {"verb": "asset.create"})

    assert response.status_code == 200
