"""The committed OpenAPI schema (docs/openapi.yaml) matches the code, and the docs page works offline.

When an endpoint or serializer changes, regenerate with ``make schema``
(``manage.py spectacular --api-version v1 --validate --file docs/openapi.yaml``) and commit the file.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
FIX = (
    "docs/openapi.yaml is out of date: run `make schema` "
    "(manage.py spectacular --api-version v1 --validate --file docs/openapi.yaml)"
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--api-version", "v1", "--validate", "--file", str(target))
    return target.read_text()


def test_committed_schema_matches_the_code(generated: str) -> None:
    assert COMMITTED.exists(), FIX
    committed = COMMITTED.read_text()
    if committed != generated:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    generated.splitlines(keepends=True),
                    "docs/openapi.yaml (committed)",
                    "generated from the code",
                )
            )[:60]
        )
        pytest.fail(f"{FIX}\n{diff}")


def test_schema_endpoint_serves_the_same_document(client, generated: str) -> None:
    response = client.get("/api/v1/schema/")

    assert response.status_code == 200
    assert yaml.safe_load(response.content) == yaml.safe_load(generated)


def test_every_workbench_operation_documents_errors_and_auth(generated: str) -> None:
    schema = yaml.safe_load(generated)
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["tokenAuth"]["description"],
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), (method, path)
            workbench_detail = re.search(r"/(systems|zones|assets|flows|attackers)/\{[a-z_]+\}/$", path)
            if method in {"patch", "delete"} and workbench_detail and not re.search(r"/(plans|acceptances)/", path):
                assert "412" in responses, (method, path)
                assert any(p["name"] == "If-Match" for p in operation["parameters"]), (method, path)


@pytest.mark.django_db
def test_swagger_ui_loads_from_local_files_only(client, editor) -> None:
    client.force_login(editor)

    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the docs page must not load from a CDN"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    local = [a for a in assets if a.startswith(settings.STATIC_URL) or a.startswith("/" + settings.STATIC_URL)]
    assert any("swagger-ui-bundle.js" in a for a in local), assets
    assert any("swagger-ui.css" in a for a in local), assets
    for asset in local:
        relative = asset.split(settings.STATIC_URL, 1)[1]
        assert finders.find(relative), f"{asset} is not shipped by an installed app"
        assert client.get(asset).status_code == 200, asset
