"""The Django admin cannot change domain rows behind the services' back (issue 13, point 8).

Before, a superuser could move team B's asset into team A's system in the admin: no role
check, no version bump, no audit event. Domain rows are now read-only there; teams and roles,
which have no page of their own, go through ``team_create`` and ``membership_set``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AssetFactory, UserFactory
from workbench.choices import Role
from workbench.models import Asset, AuditEvent, DataFlow, Membership, System, Team, TrustZone

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> Any:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def test_a_superuser_cannot_move_another_teams_asset_in_the_admin(admin_client, system, other_system, nothing_written):
    foreign = AssetFactory(system=other_system, name="Bravo weights")
    url = reverse("admin:workbench_asset_change", args=[foreign.pk])
    moved = {"name": "Bravo weights", "kind": foreign.kind, "system": system.pk, "team": system.team_id}

    with nothing_written(system):
        page = admin_client.get(url)
        refused = admin_client.post(url, moved)

    assert page.status_code == 200  # visible, read-only
    assert 'name="system"' not in page.content.decode()
    assert refused.status_code == 403
    assert Asset.objects.get(pk=foreign.pk).system_id == other_system.pk


@pytest.mark.parametrize("model", [System, TrustZone, Asset, DataFlow])
def test_domain_rows_cannot_be_added_or_deleted_in_the_admin(admin_client, elements, model, nothing_written):
    name = model._meta.model_name
    row = model.objects.filter(system=elements.system).first() if model is not System else elements.system

    with nothing_written(elements.system):
        add = admin_client.get(reverse(f"admin:workbench_{name}_add"))
        delete = admin_client.post(reverse(f"admin:workbench_{name}_delete", args=[row.pk]), {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403


def test_a_team_made_in_the_admin_is_made_by_the_service(admin_client, superuser):
    response = admin_client.post(reverse("admin:workbench_team_add"), {"name": "  Charlie  "})

    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(name="Charlie")
    assert team.slug == "charlie"
    assert Membership.objects.filter(team=team, user=superuser, role=Role.ADMIN).exists()
    assert AuditEvent.objects.filter(team=team, verb="create", object_type="team").exists()


def test_a_role_set_in_the_admin_is_set_by_the_service(admin_client, superuser, team_a, editor):
    Membership.objects.create(team=team_a, user=superuser, role=Role.ADMIN)
    membership = Membership.objects.get(team=team_a, user=editor)

    response = admin_client.post(
        reverse("admin:workbench_membership_change", args=[membership.pk]), {"role": Role.VIEWER}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER
    event = AuditEvent.objects.filter(team=team_a).latest("sequence")
    assert (event.verb, event.actor_id, event.before, event.after) == (
        "set_role",
        superuser.pk,
        {"role": Role.EDITOR},
        {"role": Role.VIEWER},
    )


def test_a_superuser_who_is_not_the_teams_admin_cannot_set_its_roles(admin_client, team_a, editor, nothing_written):
    membership = Membership.objects.get(team=team_a, user=editor)
    newcomer = UserFactory(username="newcomer")

    with nothing_written():
        changed = admin_client.post(
            reverse("admin:workbench_membership_change", args=[membership.pk]), {"role": Role.ADMIN}
        )
        added = admin_client.post(
            reverse("admin:workbench_membership_add"), {"team": team_a.pk, "user": newcomer.pk, "role": Role.ADMIN}
        )

    assert changed.status_code == added.status_code == 200  # the form again, with the error
    assert "Only an admin of this team may set its members" in changed.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == Role.EDITOR
    assert not Membership.objects.filter(user=newcomer).exists()
