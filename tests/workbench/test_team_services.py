"""Team services: creating a team, setting members' roles, and who may do it (audited)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import UserFactory
from tests.workbench.audit_support import last_event
from workbench.choices import Role
from workbench.models import Membership, Team
from workbench.services.audit import team_verify_audit
from workbench.services.teams import membership_set, team_create


def test_team_create_makes_the_creator_admin_and_opens_the_chain(db):
    creator = UserFactory()
    team = team_create(name="  Research  ", creator=creator)

    assert team.name == "Research"
    assert Membership.objects.get(team=team, user=creator).role == Role.ADMIN
    event = last_event(team)
    assert (event.sequence, event.verb, event.object_type, event.actor_id) == (1, "create", "team", creator.pk)
    assert Team.objects.get(pk=team.pk).audit_head == 1
    assert team_verify_audit(team=team).ok


def test_team_create_with_a_blank_name_writes_nothing(db, nothing_written):
    with nothing_written(), pytest.raises(ValidationError):
        team_create(name="   ", creator=UserFactory())


def test_membership_set_adds_and_changes_roles_with_events(owner, team_a):
    newcomer = UserFactory()
    membership = membership_set(actor=owner, team=team_a, user=newcomer, role=Role.VIEWER)
    event = last_event(team_a)
    assert (event.verb, event.object_id, event.before, event.after) == (
        "set_role",
        str(membership.pk),
        None,
        {"role": "viewer"},
    )

    membership_set(actor=owner, team=team_a, user=newcomer, role=Role.EDITOR)

    event = last_event(team_a)
    assert (event.before, event.after) == ({"role": "viewer"}, {"role": "editor"})
    assert Membership.objects.get(pk=membership.pk).role == Role.EDITOR
    assert team_verify_audit(team=team_a).ok


def test_membership_set_to_the_same_role_writes_nothing(owner, viewer, team_a, nothing_written):
    with nothing_written():
        membership_set(actor=owner, team=team_a, user=viewer, role=Role.VIEWER)


@pytest.mark.parametrize("persona", ["editor", "viewer", "risk_owner", "outsider"])
def test_membership_set_is_for_admins_only(request, persona, team_a, viewer, nothing_written):
    actor = request.getfixturevalue(persona)
    with nothing_written(), pytest.raises(PermissionDenied):
        membership_set(actor=actor, team=team_a, user=viewer, role=Role.ADMIN)


def test_membership_set_refuses_an_unknown_role(owner, viewer, team_a, nothing_written):
    with nothing_written(), pytest.raises(ValidationError):
        membership_set(actor=owner, team=team_a, user=viewer, role="superuser")
