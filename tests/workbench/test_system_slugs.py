"""System slugs are unique per team (issue 13, point 8): a slug says nothing about other teams'
systems, every lookup by slug stays within the caller's teams, and a slug two of the caller's
teams share is never resolved by guessing (``team--slug`` names each)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory, make_system
from workbench.choices import Role
from workbench.models import System
from workbench.services.tokens import token_issue

pytestmark = pytest.mark.django_db


def api_url(slug: str) -> str:
    return reverse("system-detail", kwargs={"version": "v1", "slug": slug})


def page_url(slug: str) -> str:
    return reverse("workbench:system_detail", kwargs={"slug": slug})


@pytest.fixture
def payments(owner, team_a, outsider, team_b) -> tuple[System, System]:
    """Team A's and team B's systems, both named Payments (B's created second)."""
    return (
        make_system(actor=owner, team=team_a, name="Payments", seed_defaults=False),
        make_system(actor=outsider, team=team_b, name="Payments", seed_defaults=False),
    )


@pytest.fixture
def dana(team_a, team_b) -> Any:
    """A member of both teams."""
    user = UserFactory(username="dana")
    MembershipFactory(team=team_a, user=user, role=Role.EDITOR)
    MembershipFactory(team=team_b, user=user, role=Role.VIEWER)
    return user


def test_a_slug_does_not_reveal_another_teams_system(payments):
    # It used to be "payments-2": team B learnt that some team had a system called Payments.
    assert [system.slug for system in payments] == ["payments", "payments"]


def test_a_slug_taken_within_the_team_gets_a_suffix(owner, team_a, payments):
    again = make_system(actor=owner, team=team_a, name="Payments!", seed_defaults=False)

    assert again.slug == "payments-2"


def test_a_generated_slug_never_contains_the_team_separator(owner, team_a):
    # slugify gives "aaa…a-b"; cutting it at 60 characters left a trailing dash.
    system = make_system(actor=owner, team=team_a, name="a" * 59 + " b", seed_defaults=False)

    assert system.slug == "a" * 59
    assert "--" not in system.slug


def test_the_database_allows_a_slug_once_per_team(team_a, team_b):
    System.objects.create(team=team_b, name="Direct", slug="direct")
    System.objects.create(team=team_a, name="Direct", slug="direct")

    with transaction.atomic(), pytest.raises(IntegrityError):
        System.objects.create(team=team_a, name="Direct again", slug="direct")


def test_each_team_reaches_its_own_system_by_the_shared_slug(client, api_client, owner, outsider, payments):
    team_a_system, team_b_system = payments
    for user, system in ((owner, team_a_system), (outsider, team_b_system)):
        api_client.force_login(user)
        client.force_login(user)

        assert api_client.get(api_url("payments")).json()["team"] == system.team.slug
        page = client.get(page_url("payments"))
        assert page.status_code == 200
        assert page.context["system"] == system


def test_a_slug_shared_by_two_of_the_callers_teams_is_never_guessed(api_client, client, dana, payments):
    api_client.force_login(dana)
    client.force_login(dana)

    response = api_client.get(api_url("payments"))

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "The slug names systems in several teams; use one of: acme--payments, bravo--payments."
    )
    assert client.get(page_url("payments")).status_code == 404


@pytest.mark.parametrize("index", [0, 1])
def test_the_qualified_slug_names_each_of_the_callers_systems(api_client, client, dana, payments, index):
    system = payments[index]
    api_client.force_login(dana)
    client.force_login(dana)

    body = api_client.get(api_url(f"{system.team.slug}--payments")).json()

    assert (body["team"], body["slug"]) == (system.team.slug, "payments")
    assert client.get(page_url(f"{system.team.slug}--payments")).context["system"] == system


def test_the_qualified_slug_stays_within_the_callers_teams(api_client, client, outsider, payments):
    api_client.force_login(outsider)
    client.force_login(outsider)

    assert api_client.get(api_url("bravo--payments")).json()["team"] == "bravo"
    assert api_client.get(api_url("acme--payments")).status_code == 404
    assert client.get(page_url("acme--payments")).status_code == 404


def test_a_token_resolves_the_plain_slug_within_its_own_team(api_client, dana, team_b, payments):
    _, raw = token_issue(user=dana, team=team_b, name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    body = api_client.get(api_url("payments")).json()

    assert body["team"] == team_b.slug
    assert api_client.get(api_url("acme--payments")).status_code == 404


def test_recompute_refuses_a_slug_several_teams_use(payments):
    with pytest.raises(CommandError, match="use one of: acme--payments, bravo--payments"):
        call_command("recompute", "payments", stdout=StringIO())
