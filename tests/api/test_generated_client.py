"""A client generated from the committed docs/openapi.yaml works against the live test server.

openapi-python-client (a dev dependency) generates the package into a temporary directory, with
every socket connection refused in the generator's process, which proves it needs no network;
then the generated, typed functions list systems and create and update an asset, If-Match
included, exactly as an inventory client would.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from workbench.models import Asset, AuditEvent, System
from workbench.services.tokens import token_issue

SCHEMA = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("network access attempted by the client generator")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The generated package, imported as ``wbclient``."""
    root = tmp_path_factory.mktemp("client")
    offline = root / "offline"
    offline.mkdir()
    (offline / "sitecustomize.py").write_text(NO_NETWORK)
    config = root / "config.yaml"
    config.write_text("post_hooks: []\nproject_name_override: wbclient\npackage_name_override: wbclient\n")
    env = {**os.environ, "PYTHONPATH": str(offline), "NO_PROXY": "*"}
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(SCHEMA), "--output-path", str(root / "wbclient"), "--meta", "none"]
        + ["--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "network access attempted" not in result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("wbclient")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "wbclient" or m.startswith("wbclient.")]:
            del sys.modules[name]


def test_the_generator_really_runs_without_network(tmp_path: Path) -> None:
    offline = tmp_path / "offline"
    offline.mkdir()
    (offline / "sitecustomize.py").write_text(NO_NETWORK)
    probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9/', timeout=1)"

    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(offline)},
        check=False,
    )

    assert "network access attempted by the client generator" in result.stderr


def test_generated_client_lists_systems_and_writes_an_asset(generated, live_server, editor, system) -> None:
    from wbclient.api.assets import systems_assets_create, systems_assets_partial_update, systems_assets_retrieve
    from wbclient.api.systems import systems_list
    from wbclient.models import AssetInputRequest, AssetKindEnum, Error, PatchedAssetInputRequest

    _, raw = token_issue(user=editor, team=system.team, name="generated client", read_only=False)
    client = generated.AuthenticatedClient(base_url=live_server.url, token=raw)

    page = systems_list.sync(client=client)
    assert [s.slug for s in page.results] == [system.slug]

    created = systems_assets_create.sync_detailed(
        system.slug,
        client=client,
        body=AssetInputRequest(
            name="Model registry", kind=AssetKindEnum.MODEL_REGISTRY, tags=["cmdb"], source="cmdb", external_id="r-1"
        ),
    )
    assert created.status_code == 201, created.content
    asset = created.parsed
    etag = created.headers["ETag"]
    assert (asset.name, asset.kind, asset.tags) == ("Model registry", AssetKindEnum.MODEL_REGISTRY, ["cmdb"])

    updated = systems_assets_partial_update.sync_detailed(
        system.slug, asset.id, client=client, body=PatchedAssetInputRequest(criticality=5), if_match=etag
    )
    assert updated.status_code == 200, updated.content
    assert updated.parsed.criticality == 5
    assert updated.headers["ETag"] != etag

    stale = systems_assets_partial_update.sync_detailed(
        system.slug, asset.id, client=client, body=PatchedAssetInputRequest(criticality=1), if_match=etag
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, Error)
    assert stale.parsed.code == "precondition_failed"

    read = systems_assets_retrieve.sync(system.slug, asset.id, client=client)
    assert read.criticality == 5
    stored = Asset.objects.get(pk=asset.id)
    assert (stored.system_id, stored.criticality, stored.external_id) == (system.pk, 5, "r-1")
    assert System.objects.get(pk=system.pk).version == system.version + 2
    assert AuditEvent.objects.filter(object_type="asset", object_id=str(asset.id), actor=editor).count() == 2
