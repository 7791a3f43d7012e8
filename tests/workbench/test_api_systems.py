"""API v1 systems, reads: team scoping for sessions and tokens, token checks, query budgets.

Writes (create/update/delete, If-Match) are in test_api_system_writes.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AssetFactory,
    DataFlowFactory,
    MembershipFactory,
    TrustZoneFactory,
    UserFactory,
    make_system,
)
from workbench.choices import AssetKind, Role
from workbench.models import Asset, AssetCopy, System
from workbench.services.tokens import token_issue, token_revoke

pytestmark = pytest.mark.django_db

LIST_URL = reverse("system-list", kwargs={"version": "v1"})


def detail_url(system: System) -> str:
    return reverse("system-detail", kwargs={"version": "v1", "slug": system.slug})


@pytest.fixture(autouse=True)
def _reset_anonymous_throttle() -> None:
    # Anonymous requests share one throttle bucket (120/hour) across the whole run.
    cache.delete("throttle_anon_127.0.0.1")


@pytest.fixture
def as_user(api_client: Any) -> Any:
    def _login(user: Any) -> Any:
        api_client.force_authenticate(user=None)
        api_client.force_login(user)
        return api_client

    return _login


def bearer(api_client: Any, raw: str) -> Any:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api_client


@pytest.fixture
def two_team_user(system: System, other_system: System) -> Any:
    """An editor in team A who is also a viewer in team B."""
    user = UserFactory(username="dana")
    MembershipFactory(team=system.team, user=user, role=Role.EDITOR)
    MembershipFactory(team=other_system.team, user=user, role=Role.VIEWER)
    return user


def slugs(response: Any) -> list[str]:
    return [row["slug"] for row in response.json()["results"]]


# --- session authentication ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "risk_owner"])
def test_list_shows_only_the_users_teams_systems(request, as_user, system, other_system, persona):
    response = as_user(request.getfixturevalue(persona)).get(LIST_URL)

    assert response.status_code == 200
    assert slugs(response) == [system.slug]
    assert response.json()["next"] is None


def test_outsider_lists_only_their_own_team(as_user, outsider, system, other_system):
    response = as_user(outsider).get(LIST_URL)

    assert slugs(response) == [other_system.slug]


def test_member_of_two_teams_lists_both_with_a_session(as_user, two_team_user, system, other_system):
    response = as_user(two_team_user).get(LIST_URL)

    assert sorted(slugs(response)) == sorted([system.slug, other_system.slug])


def test_detail_of_another_teams_system_is_404(as_user, outsider, system):
    response = as_user(outsider).get(detail_url(system))

    assert response.status_code == 404


def test_detail_includes_zones_assets_flows_and_attackers(as_user, viewer, elements):
    response = as_user(viewer).get(detail_url(elements.system))

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == elements.system.slug
    assert body["team"] == elements.system.team.slug
    assert body["version"] == 1
    assert {z["name"] for z in body["zones"]} == {"Internet", "Corp network"}
    assert {a["id"] for a in body["assets"]} == {elements.asset.pk, elements.other_asset.pk}
    (flow,) = body["flows"]
    assert (flow["id"], flow["source"], flow["target"]) == (
        elements.flow.pk,
        elements.other_asset.pk,
        elements.asset.pk,
    )
    assert flow["crosses_zones"] is False
    assert len(body["attackers"]) == 6
    assert elements.attacker.name in {a["name"] for a in body["attackers"]}


def test_list_can_be_filtered_by_team(as_user, two_team_user, system, other_system):
    response = as_user(two_team_user).get(LIST_URL, {"team": other_system.team.slug})

    assert slugs(response) == [other_system.slug]


@pytest.mark.parametrize("url", ["list", "detail"])
def test_anonymous_gets_401(api_client, system, url):
    response = api_client.get(LIST_URL if url == "list" else detail_url(system))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


# --- token authentication --------------------------------------------------------------------


def test_token_sees_only_its_own_team_even_if_the_user_is_in_two(api_client, two_team_user, system, other_system):
    _, raw = token_issue(user=two_team_user, team=system.team, name="ci")
    client = bearer(api_client, raw)

    assert slugs(client.get(LIST_URL)) == [system.slug]
    assert client.get(detail_url(system)).status_code == 200
    assert client.get(detail_url(other_system)).status_code == 404


def test_token_of_the_other_team_sees_only_that_team(api_client, two_team_user, system, other_system):
    _, raw = token_issue(user=two_team_user, team=other_system.team, name="ci")
    client = bearer(api_client, raw)

    assert slugs(client.get(LIST_URL)) == [other_system.slug]
    assert client.get(detail_url(system)).status_code == 404


def test_token_loses_access_when_its_user_leaves_the_team(api_client, viewer, system):
    _, raw = token_issue(user=viewer, team=system.team, name="ci")
    viewer.memberships.all().delete()

    response = bearer(api_client, raw).get(LIST_URL)

    assert slugs(response) == []


def test_revoked_token_is_refused(api_client, viewer, system):
    token, raw = token_issue(user=viewer, team=system.team, name="ci")
    token_revoke(actor=viewer, token=token)

    response = bearer(api_client, raw).get(LIST_URL)

    assert response.status_code == 401


def test_expired_token_is_refused(api_client, viewer, system):
    _, raw = token_issue(user=viewer, team=system.team, name="ci", expires_at=timezone.now() - timedelta(seconds=1))

    response = bearer(api_client, raw).get(LIST_URL)

    assert response.status_code == 401


def test_token_not_yet_expired_is_accepted(api_client, viewer, system):
    _, raw = token_issue(user=viewer, team=system.team, name="ci", expires_at=timezone.now() + timedelta(days=1))

    assert bearer(api_client, raw).get(LIST_URL).status_code == 200


def test_token_of_an_inactive_user_is_refused(api_client, viewer, system):
    _, raw = token_issue(user=viewer, team=system.team, name="ci")
    viewer.is_active = False
    viewer.save()

    assert bearer(api_client, raw).get(LIST_URL).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer mtw_not-a-real-token", "Bearer", "Bearer a b", "Bearer sk_live_123", "Bearer " + "mtw_" + "x" * 200],
)
def test_bad_bearer_header_is_refused(api_client, system, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert api_client.get(LIST_URL).status_code == 401


def test_bad_token_is_refused_even_with_a_valid_session(as_user, viewer, system):
    client = as_user(viewer)
    client.credentials(HTTP_AUTHORIZATION="Bearer mtw_forged")

    assert client.get(LIST_URL).status_code == 401


# --- query budgets ---------------------------------------------------------------------------

# The system detail: 10 queries, plus one each for the assets' copies and served models (v2).
DETAIL_BUDGET = 12


@pytest.fixture
def big_system(elements) -> System:
    """30 assets in three zones, 40 flows that each carry an asset, weights with copies and an endpoint serving them."""
    system = elements.system
    zones = [TrustZoneFactory(system=system) for _ in range(3)]
    assets = [AssetFactory(system=system, zone=zones[i % 3], hosted_on=elements.other_asset) for i in range(28)]
    assets += [elements.asset, elements.other_asset]
    for i in range(39):
        flow = DataFlowFactory(system=system, source=assets[i % 30], target=assets[(i + 3) % 30])
        flow.carries.add(assets[(i + 5) % 30])
    for attacker in system.attackers.all():
        attacker.entry_assets.add(*assets[:4])
        attacker.entry_zones.add(*zones)
    weights, endpoint = assets[0], assets[3]
    Asset.objects.filter(pk=weights.pk).update(kind=AssetKind.MODEL_WEIGHTS, hosted_on=None)
    Asset.objects.filter(pk=endpoint.pk).update(kind=AssetKind.INFERENCE_ENDPOINT)
    for position, (holder, mode) in enumerate(((assets[1], "stored"), (assets[2], "stored"), (assets[4], "loaded"))):
        AssetCopy.objects.create(
            team=system.team, system=system, asset=weights, holder=holder, mode=mode, position=position
        )
    endpoint.serves.add(weights)
    return system


def test_detail_uses_a_bounded_number_of_queries(as_user, viewer, big_system, django_assert_max_num_queries):
    client = as_user(viewer)
    with django_assert_max_num_queries(DETAIL_BUDGET):
        response = client.get(detail_url(big_system))

    body = response.json()
    assert (len(body["assets"]), len(body["flows"])) == (30, 40)
    assert any(flow["crosses_zones"] for flow in body["flows"])
    weights = next(asset for asset in body["assets"] if asset["kind"] == AssetKind.MODEL_WEIGHTS)
    assert (len(weights["stored_on"]), len(weights["loaded_on"])) == (2, 1)
    assert [asset["serves"] for asset in body["assets"] if asset["serves"]] == [[weights["id"]]]


def test_detail_with_a_token_uses_a_bounded_number_of_queries(
    api_client, viewer, big_system, django_assert_max_num_queries
):
    _, raw = token_issue(user=viewer, team=big_system.team, name="ci")
    client = bearer(api_client, raw)
    with django_assert_max_num_queries(DETAIL_BUDGET):
        response = client.get(detail_url(big_system))

    assert len(response.json()["flows"]) == 40


def test_list_uses_a_bounded_number_of_queries(as_user, owner, big_system, team_a, django_assert_max_num_queries):
    for n in range(10):
        make_system(actor=owner, team=team_a, name=f"Extra {n}", seed_defaults=False)
    client = as_user(owner)
    with django_assert_max_num_queries(4):
        response = client.get(LIST_URL)

    assert len(response.json()["results"]) == 11
