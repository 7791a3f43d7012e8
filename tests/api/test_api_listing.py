"""API v1 listings: cursor pages that stay stable under writes, filters, teams, query budgets."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import AssetFactory, DataFlowFactory, MembershipFactory, TrustZoneFactory
from workbench.choices import AssetKind, Role
from workbench.models import Asset, System

pytestmark = pytest.mark.django_db


def assets_url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/assets/"


def walk(client: Any, url: str, **params: Any) -> list[dict[str, Any]]:
    """Follow ``next`` links to the end; returns every row seen, in order."""
    rows: list[dict[str, Any]] = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        response = client.get(body["next"])


def test_cursor_pages_visit_every_asset_once_in_feed_order(api_as, system):
    AssetFactory.create_batch(250, system=system)

    rows = walk(api_as("viewer", "token"), assets_url(system), page_size=100)

    assert len(rows) == 250
    assert len({row["id"] for row in rows}) == 250
    assert [(row["updated_at"], row["id"]) for row in rows] == sorted((row["updated_at"], row["id"]) for row in rows)


def test_rows_written_between_pages_neither_repeat_nor_hide_older_ones(api_as, system):
    AssetFactory.create_batch(30, system=system)
    client = api_as("editor")
    first = client.get(assets_url(system), {"page_size": 10}).json()
    seen = [row["id"] for row in first["results"]]
    # A new asset and a change to an already-read one both move to the end of the feed.
    created = client.post(assets_url(system), {"name": "late", "kind": "gpu_host"}, format="json").json()
    client.patch(f"{assets_url(system)}{seen[0]}/", {"criticality": 5}, format="json")

    rest = walk(client, first["next"])
    rest_ids = [row["id"] for row in rest]

    assert set(seen) | set(rest_ids) == set(Asset.objects.filter(system=system).values_list("pk", flat=True))
    assert len(rest_ids) == len(set(rest_ids))
    assert rest_ids[-2:] == [created["id"], seen[0]]


def test_many_rows_with_the_same_timestamp_still_page_exactly(api_as, system):
    AssetFactory.create_batch(45, system=system)
    Asset.objects.filter(system=system).update(updated_at=timezone.now())

    rows = walk(api_as("viewer"), assets_url(system), page_size=10)

    assert sorted(row["id"] for row in rows) == sorted(Asset.objects.filter(system=system).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.b64encode(b"p=not-a-date").decode(),
        base64.b64encode(b"o=-4&p=2026-01-01").decode(),
        base64.b64encode(b"r=x").decode(),
    ],
)
def test_a_broken_cursor_is_a_400(api_as, system, cursor):
    response = api_as("viewer").get(assets_url(system), {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor."]}


def test_a_crafted_id_cursor_is_a_400_on_id_ordered_lists(api_as, system):
    cursor = base64.b64encode(b"p=abc").decode()

    response = api_as("viewer").get(f"/api/v1/systems/{system.slug}/zones/", {"cursor": cursor})

    assert response.status_code == 400


@pytest.fixture
def catalogue(system: System) -> dict[str, Any]:
    dmz, core = TrustZoneFactory(system=system, name="DMZ"), TrustZoneFactory(system=system, name="Core")
    made = {
        "gateway": AssetFactory(system=system, zone=dmz, kind=AssetKind.API_GATEWAY, tags=["prod", "edge"]),
        "weights": AssetFactory(system=system, zone=core, kind=AssetKind.MODEL_WEIGHTS, tags=["prod"]),
        "notebook": AssetFactory(system=system, zone=core, kind=AssetKind.NOTEBOOK, tags=["production"]),
        "laptop": AssetFactory(system=system, kind=AssetKind.WORKSTATION, tags=[]),
    }
    return {"dmz": dmz, "core": core, **made}


def names(response: Any, catalogue: dict[str, Any]) -> set[str]:
    assert response.status_code == 200, response.content
    by_id = {asset.pk: key for key, asset in catalogue.items() if isinstance(asset, Asset)}
    return {by_id[row["id"]] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "api_gateway"}, {"gateway"}),
        ({"kind": ["model_weights", "notebook"]}, {"weights", "notebook"}),
        ({"tag": "prod"}, {"gateway", "weights"}),
        ({"tag": "prod", "kind": "model_weights"}, {"weights"}),
        ({"tag": "PROD"}, set()),
        ({"tag": "pro"}, set()),
    ],
)
def test_asset_filters(api_as, system, catalogue, params, expected):
    assert names(api_as("viewer").get(assets_url(system), params), catalogue) == expected


def test_zone_filter(api_as, system, catalogue):
    response = api_as("viewer").get(assets_url(system), {"zone": catalogue["core"].pk})

    assert names(response, catalogue) == {"weights", "notebook"}


def test_updated_since_returns_rows_changed_at_or_after_the_instant(api_as, system, catalogue):
    old = timezone.now() - timedelta(days=3)
    Asset.objects.filter(system=system).update(updated_at=old)
    Asset.objects.filter(pk=catalogue["laptop"].pk).update(updated_at=old + timedelta(days=2))

    since = (old + timedelta(days=1)).isoformat()
    assert names(api_as("viewer").get(assets_url(system), {"updated_since": since}), catalogue) == {"laptop"}
    exact = api_as("viewer").get(assets_url(system), {"updated_since": old.isoformat()})
    assert names(exact, catalogue) == {"gateway", "weights", "notebook", "laptop"}


@pytest.mark.parametrize("collection", ["assets", "flows"])
@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("1021-12-15T02:37:10.703006-18:33", 200),  # an offset PostgreSQL refuses: sent as UTC
        ("2026-01-31T12:00:00+23:59", 200),
        ("0001-01-01T00:00:00+05:00", 400),  # before year 1 in UTC
    ],
)
def test_updated_since_with_any_offset_is_answered_never_a_500(api_as, system, collection, since, status):
    client = api_as("viewer")
    client.raise_request_exception = False

    response = client.get(f"/api/v1/systems/{system.slug}/{collection}/", {"updated_since": since})

    assert response.status_code == status, response.content


@pytest.mark.parametrize(
    "params",
    [
        {"updated_since": "yesterday"},
        {"zone": "abc"},
        {"zone": "1.5"},
        {"kind": "toaster"},
        {"tag": "t" * 41},
        {"tag": "nul\x00"},
        {"page_size": "1", "internet_facing": "maybe"},
    ],
)
def test_bad_filter_values_are_400(api_as, system, params):
    response = api_as("viewer").get(assets_url(system), params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_flow_filters_by_end_and_zone(api_as, elements):
    system = elements.system
    elsewhere = AssetFactory(system=system)
    other = DataFlowFactory(system=system, source=elsewhere, target=AssetFactory(system=system))
    url = f"/api/v1/systems/{system.slug}/flows/"
    client = api_as("viewer")

    def ids(params: dict[str, Any]) -> set[int]:
        return {row["id"] for row in client.get(url, params).json()["results"]}

    assert ids({"asset": elements.asset.pk}) == {elements.flow.pk}
    assert ids({"source": elsewhere.pk}) == {other.pk}
    assert ids({"zone": elements.zone.pk}) == {elements.flow.pk}
    assert ids({}) == {elements.flow.pk, other.pk}


def test_teams_lists_the_callers_teams_with_their_role(api_as, editor, team_b):
    MembershipFactory(team=team_b, user=editor, role=Role.VIEWER)

    session = api_as("editor").get("/api/v1/teams/").json()["results"]
    token = api_as("editor", "token").get("/api/v1/teams/").json()["results"]

    assert {(t["slug"], t["role"]) for t in session} == {("acme", "editor"), ("bravo", "viewer")}
    assert token == [{"slug": "acme", "name": "Acme", "role": "editor"}]
    assert api_as("editor", "token").get("/api/v1/teams/bravo/").status_code == 404
    assert api_as("outsider").get("/api/v1/teams/acme/").status_code == 404


def test_element_lists_use_a_bounded_number_of_queries(api_as, elements, django_assert_max_num_queries):
    system = elements.system
    assets = AssetFactory.create_batch(20, system=system, zone=elements.zone)
    for n in range(30):
        flow = DataFlowFactory(system=system, source=assets[n % 20], target=assets[(n + 1) % 20])
        flow.carries.add(assets[(n + 2) % 20])
    for attacker in system.attackers.all():
        attacker.entry_assets.add(*assets[:5])
    client = api_as("viewer", "token")

    for kind, count in (("flows", 31), ("assets", 22), ("attackers", 6), ("zones", 2)):
        with django_assert_max_num_queries(8):
            response = client.get(f"/api/v1/systems/{system.slug}/{kind}/")
        assert len(response.json()["results"]) == count
