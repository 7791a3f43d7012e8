"""Integers beyond 64 bits answer 400 (API) or a form error (pages), never a 500 (issue 13, point 6).

Each input below reached the database before the fix: SQLite's driver raised ``OverflowError``
(a 500), PostgreSQL compared it as a numeric. Ids in paths are not listed: Django's ``int``
converter answers 404 for them already; so are the fields Django or DRF already bound (single
choices, model integer fields, DRF's related fields, page sizes, limits and offsets).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.api.test_api_errors import shape

pytestmark = pytest.mark.django_db

HUGE = 99_999_999_999_999_999_999
NUMBERS = [str(HUGE), str(-HUGE), str(2**63)]

# (collection, query parameter) of API listings whose filters take an integer.
FILTERS = [
    ("assets", "zone"),
    ("assets", "hosted_on"),
    ("flows", "asset"),
    ("flows", "source"),
    ("flows", "target"),
    ("flows", "zone"),
    ("zones", "parent"),
    ("zones", "trust_level"),
]
# (page, multiple-choice field) of element forms, on the new and the edit page.
FORM_FIELDS = [("flows", "carries"), ("attackers", "entry_zones"), ("attackers", "entry_assets")]


@pytest.fixture
def page_client(client_as: Any) -> Client:
    client: Client = client_as("editor")
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize(("collection", "param"), FILTERS)
def test_a_filter_beyond_64_bits_is_a_400_naming_it(api_as, elements, collection, param, number):
    client = api_as("viewer")
    client.raise_request_exception = False

    response = client.get(f"/api/v1/systems/{elements.system.slug}/{collection}/", {param: number})

    assert response.status_code == 400, response.content
    assert param in shape(response)["errors"]


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("action", ["new", "edit"])
@pytest.mark.parametrize(("kind", "field"), FORM_FIELDS)
def test_a_choice_beyond_64_bits_is_a_form_error(
    page_client, elements, form_data, nothing_written, kind, field, action, number
):
    from tests.workbench.test_forms_validation import element_url

    with nothing_written(elements.system):
        response = page_client.post(element_url(elements, kind, action), form_data(kind, elements, **{field: [number]}))

    assert response.status_code == 400
    assert "is not a valid value." in response.content.decode()


@pytest.mark.parametrize("number", NUMBERS)
def test_a_layout_position_for_an_asset_beyond_64_bits_is_a_400(api_as, elements, nothing_written, number):
    client = api_as("editor")
    client.raise_request_exception = False
    url = f"/api/v1/systems/{elements.system.slug}/layout/"

    with nothing_written(elements.system):
        response = client.put(url, {"positions": [{"asset": number, "x": 1, "y": 2}]}, format="json")

    assert response.status_code == 400, response.content
    assert any(key.startswith("positions") for key in shape(response)["errors"])


@pytest.mark.parametrize("number", NUMBERS)
def test_a_batch_position_for_an_asset_beyond_64_bits_is_a_400(api_as, elements, nothing_written, number):
    client = api_as("editor")
    client.raise_request_exception = False
    system = elements.system
    body = {"operations": [], "positions": [{"asset": number, "x": 1, "y": 2}]}

    with nothing_written(system):
        response = client.post(
            f"/api/v1/systems/{system.slug}/batch/", body, format="json", HTTP_IF_MATCH=f'"v{system.version}"'
        )

    assert response.status_code == 400, response.content
    assert any(key.startswith("positions") for key in shape(response)["errors"])
