"""Serving diagrams and attack paths: headers, downloads, PNG on demand, team scoping, hostile names."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from typing import Any

import pytest

import threats.render as render_module
from threats.models import RenderedDiagram
from threats.services.diagrams import system_render_diagrams
from workbench.models import System
from workbench.services.elements import asset_save, attacker_save, flow_save
from workbench.services.tokens import token_issue

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed"),
]

KINDS = ("dfd", "attack-paths")
CSP = "default-src 'none'; style-src 'unsafe-inline'"
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = (
    "<script>alert(1)</script>",
    'x" onload="alert(1)',
    '"]; a [image="/etc/passwd"] x [label="',
    "ends with a backslash\\",
    "<<b>bold</b>>",
    "a -> b } digraph evil {",
)


def _render(system: System) -> None:
    system.refresh_from_db()
    assert system_render_diagrams(system_id=system.pk, version=system.version).status == "rendered"


@pytest.fixture
def drawn(system: System, owner: Any, library: None) -> System:
    """Team A's system with an internet API, a store with the weights, rendered."""
    internet = system.zones.get(trust_level=0)
    api = asset_save(
        actor=owner, system=system, name="Chat API", kind="inference_endpoint", zone=internet, internet_facing=True
    )
    store = asset_save(actor=owner, system=system, name="Bucket", kind="object_store")
    asset_save(
        actor=owner,
        system=system,
        name="Weights",
        kind="model_weights",
        stored_on=[store],
        criticality=5,
        value_min=1_000_000,
        value_likely=2_000_000,
        value_max=5_000_000,
    )
    flow_save(actor=owner, system=system, name="Load", source=api, target=store)
    _render(system)
    return system


def _urls(slug: str) -> list[str]:
    pages = [f"/systems/{slug}/diagrams/{kind}.{ext}" for kind in KINDS for ext in ("svg", "png")]
    return [*pages, f"/systems/{slug}/diagrams/panel/"]


def _api_urls(slug: str) -> list[str]:
    return [*(f"/api/v1/systems/{slug}/diagrams/{kind}.svg" for kind in KINDS), f"/api/v1/systems/{slug}/attack-paths/"]


@pytest.mark.parametrize("kind", KINDS)
def test_svg_is_served_as_an_isolated_image(client_as: Any, drawn: System, kind: str) -> None:
    response = client_as("viewer").get(f"/systems/{drawn.slug}/diagrams/{kind}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{drawn.slug}-{kind}-v{drawn.version}.svg"'
    assert response["X-Diagram-Version"] == str(drawn.version)
    assert "private" in response["Cache-Control"]
    root = ET.fromstring(response.content)  # noqa: S314 - our own sanitised output
    assert root.tag == f"{SVG}svg"
    again = client_as("viewer").get(f"/systems/{drawn.slug}/diagrams/{kind}.svg", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_the_download_variant_is_an_attachment_over_the_api_too(api_client: Any, viewer: Any, drawn: System) -> None:
    api_client.force_login(viewer)
    response = api_client.get(f"/api/v1/systems/{drawn.slug}/diagrams/dfd.svg?download=1", HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == CSP and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{drawn.slug}-dfd-v{drawn.version}.svg"'
    assert response.content.startswith(b"<?xml")


def test_png_is_rendered_once_on_demand_and_then_served_from_the_cache(
    client_as: Any, drawn: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real = subprocess.run

    def counting(args: Any, *rest: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(render_module.subprocess, "run", counting)
    client = client_as("viewer")
    first = client.get(f"/systems/{drawn.slug}/diagrams/attack-paths.png?download=1")
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert first.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert first["Content-Disposition"].startswith("attachment;")
    second = client.get(f"/systems/{drawn.slug}/diagrams/attack-paths.png")
    assert second.content == first.content and len(calls) == 1
    assert RenderedDiagram.objects.exclude(png=None).count() == 1


def test_before_the_first_render_the_diagram_answers_503_with_retry_after(
    client_as: Any, api_client: Any, viewer: Any, system: System
) -> None:
    response = client_as("viewer").get(f"/systems/{system.slug}/diagrams/dfd.svg")
    assert response.status_code == 503 and response["Retry-After"]
    api_client.force_login(viewer)
    assert api_client.get(f"/api/v1/systems/{system.slug}/diagrams/attack-paths.svg").status_code == 503
    body = api_client.get(f"/api/v1/systems/{system.slug}/attack-paths/").json()
    assert body["state"] == "pending" and body["pairs"] == [] and body["fresh"] is False


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "risk_owner"])
def test_every_new_route_serves_team_members(
    request: pytest.FixtureRequest, client_as: Any, api_client: Any, drawn: System, persona: str
) -> None:
    client = client_as(persona)
    for url in _urls(drawn.slug):
        assert client.get(url).status_code == 200, url
    api_client.force_login(request.getfixturevalue(persona))
    for url in _api_urls(drawn.slug):
        assert api_client.get(url).status_code == 200, url


def test_every_new_route_is_a_404_for_another_team_and_asks_strangers_to_log_in(
    client_as: Any, api_client: Any, outsider: Any, other_system: System, drawn: System
) -> None:
    outsider_client = client_as("outsider")
    for url in _urls(drawn.slug):
        assert outsider_client.get(url).status_code == 404, url
        anonymous = client_as(None).get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], url
    api_client.force_login(outsider)
    for url in _api_urls(drawn.slug):
        assert api_client.get(url).status_code == 404, url
    api_client.logout()
    for url in _api_urls(drawn.slug):
        assert api_client.get(url).status_code in (401, 403), url


def test_a_token_of_another_team_cannot_read_this_teams_diagrams(
    api_client: Any, owner: Any, team_b: Any, drawn: System
) -> None:
    from tests.factories import MembershipFactory

    MembershipFactory(team=team_b, user=owner, role="viewer")  # owner is in both teams
    _, team_b_secret = token_issue(user=owner, team=team_b, name="B only")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {team_b_secret}")
    for url in _api_urls(drawn.slug):
        assert api_client.get(url).status_code == 404, url
    _, team_a_secret = token_issue(user=owner, team=drawn.team, name="A")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {team_a_secret}")
    for url in _api_urls(drawn.slug):
        assert api_client.get(url).status_code == 200, url


def test_attack_paths_api_lists_paths_per_profile_and_target_with_freshness(
    api_client: Any, viewer: Any, owner: Any, drawn: System
) -> None:
    api_client.force_login(viewer)
    body = api_client.get(f"/api/v1/systems/{drawn.slug}/attack-paths/").json()
    assert body["fresh"] is True and body["state"] == "fresh"
    assert body["version"] == body["computed_version"] == drawn.version and body["k"] == 5
    pair = next(
        p for p in body["pairs"] if p["profile"]["name"] == "Anonymous API user" and p["target"]["name"] == "Weights"
    )
    best = pair["paths"][0]
    assert best["entry"]["name"] == "Internet" and best["assets"] == ["Chat API", "Bucket", "Weights"]
    assert best["flows"] == ["Load"] and best["probability"] == pair["probability"] > 0
    hop_keys = {"from", "to", "via", "probability", "techniques", "controls", "planned"}
    assert all(hop_keys <= set(h) for h in best["hops"])
    asset_save(actor=owner, system=drawn, asset=drawn.assets.get(name="Bucket"), monitored=True)
    stale = api_client.get(f"/api/v1/systems/{drawn.slug}/attack-paths/").json()
    assert stale["fresh"] is False and stale["state"] == "rendering" and stale["computed_version"] < stale["version"]


def test_the_system_page_shows_both_diagrams_as_images_and_the_top_paths(client_as: Any, drawn: System) -> None:
    page = client_as("viewer").get(f"/systems/{drawn.slug}/").content.decode()
    for kind in KINDS:
        assert f'<img src="/systems/{drawn.slug}/diagrams/{kind}.svg?p=' in page
        assert f"/systems/{drawn.slug}/diagrams/{kind}.png?download=1" in page
    assert f"Diagrams as of version {drawn.version}" in page
    assert "Anonymous API user" in page and "Internet → Chat API → Bucket → Weights" in page
    assert "<svg" not in page, "diagrams are embedded as images, never inlined"


def test_the_panel_polls_while_the_model_is_newer_than_the_diagrams(client_as: Any, owner: Any, drawn: System) -> None:
    client = client_as("viewer")
    assert "hx-trigger" not in client.get(f"/systems/{drawn.slug}/diagrams/panel/").content.decode()
    shown = drawn.version
    asset_save(actor=owner, system=drawn, asset=drawn.assets.get(name="Bucket"), monitored=True)
    panel = client.get(f"/systems/{drawn.slug}/diagrams/panel/").content.decode()
    assert 'hx-trigger="every 3s"' in panel and 'data-state="rendering"' in panel
    assert f"showing version {shown}, the model is at version {shown + 1}" in panel


def test_hostile_names_reach_the_served_svg_only_as_text(
    client_as: Any, owner: Any, system: System, library: None
) -> None:
    internet = system.zones.get(trust_level=0)
    previous = asset_save(
        actor=owner, system=system, name=HOSTILE[0], kind="inference_endpoint", zone=internet, internet_facing=True
    )
    for n, name in enumerate(HOSTILE[1:], start=1):
        kind = "model_weights" if n == len(HOSTILE) - 1 else "object_store"
        worth = {"value_min": 1e6, "value_likely": 2e6, "value_max": 5e6} if kind == "model_weights" else {}
        current = asset_save(actor=owner, system=system, name=name, kind=kind, criticality=5, **worth)
        flow_save(actor=owner, system=system, name=HOSTILE[-n], source=previous, target=current, protocol=HOSTILE[n])
        previous = current
    profile = system.attackers.get(name="Anonymous API user")
    attacker_save(actor=owner, system=system, attacker=profile, name=HOSTILE[2])
    _render(system)
    client = client_as("viewer")
    for kind in KINDS:
        body = client.get(f"/systems/{system.slug}/diagrams/{kind}.svg").content
        root = ET.fromstring(body)  # noqa: S314 - our own sanitised output
        names = {el.tag.split("}")[-1] for el in root.iter()}
        assert not names & {"script", "foreignObject", "image", "a", "iframe"}, kind
        for element in root.iter():
            for attribute, value in element.attrib.items():
                assert not attribute.split("}")[-1].lower().startswith("on"), (kind, attribute)
                assert "javascript:" not in value.lower()
        texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
        assert "<script>alert(1)</script>" in texts, "the payload is shown as literal text"
        assert b"<script" not in body
    page = client.get(f"/systems/{system.slug}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
