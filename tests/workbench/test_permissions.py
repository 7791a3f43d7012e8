"""The permission policy, stated once as the product's rules (issue 16, point 1).

``TABLE`` below is the policy in plain sight: every capability against every role, each cell
written out, so a change of who may do what is a change of this table, reviewed as such. It
was read off the code as it stood before ``workbench.permissions`` existed (the role sets in
the services, views, querysets and the plan workflow), so it also pins that the refactor kept
every answer. The rest checks that the places that used to keep their own role sets now
answer from the table: querysets, the plan workflow, ``require`` and ``system_get``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from mitigations import workflow
from tests.factories import MembershipFactory, SystemFactory, TeamFactory, UserFactory
from workbench import selectors
from workbench.choices import Role
from workbench.models import System, Team
from workbench.permissions import (
    DENIED,
    NO_CAPABILITIES,
    POLICY,
    Capabilities,
    TeamCapability,
    capabilities_for,
    capabilities_of,
    require,
    roles_with,
)

ROLES = (Role.VIEWER, Role.EDITOR, Role.RISK_OWNER, Role.ADMIN)

# Y: the role has the capability; -: it has not.
TABLE = """
                        viewer  editor  risk_owner  admin
    view_system           Y       Y         Y         Y
    edit_model            -       Y         -         Y
    propose               -       Y         -         Y
    approve               -       -         Y         Y
    accept_risk           -       -         Y         Y
    comment               -       Y         Y         Y
    request_recompute     -       Y         Y         Y
    issue_read_token      Y       Y         Y         Y
    issue_write_token     -       Y         Y         Y
    manage_tokens         -       -         -         Y
    administer_team       -       -         -         Y
"""


def _parse(table: str) -> dict[tuple[str, str], bool]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    cells = {}
    for capability, *marks in rows:
        assert len(marks) == len(header), capability
        for role, mark in zip(header, marks, strict=True):
            assert mark in ("Y", "-"), (capability, role, mark)
            cells[(role, capability)] = mark == "Y"
    return cells


EXPECTED = _parse(TABLE)


def test_the_table_names_every_role_and_every_capability() -> None:
    assert {role for role, _ in EXPECTED} == set(Role.values) == set(POLICY)
    assert {capability for _, capability in EXPECTED} == {c.value for c in TeamCapability}


@pytest.mark.parametrize(("role", "capability"), sorted(EXPECTED))
def test_each_role_has_exactly_the_capabilities_of_the_table(role: str, capability: str) -> None:
    assert (TeamCapability(capability) in capabilities_for(role)) is EXPECTED[(role, capability)]


def test_viewers_read_and_hold_read_only_tokens_and_nothing_else() -> None:
    assert capabilities_for(Role.VIEWER) == {TeamCapability.VIEW_SYSTEM, TeamCapability.ISSUE_READ_TOKEN}


def test_editors_and_risk_owners_split_the_duties_and_admins_have_them_all() -> None:
    """Separation of duties: who changes the model and the plans is never who signs them off."""
    editor, risk_owner = capabilities_for(Role.EDITOR), capabilities_for(Role.RISK_OWNER)
    sign_off = {TeamCapability.APPROVE, TeamCapability.ACCEPT_RISK}
    change = {TeamCapability.EDIT_MODEL, TeamCapability.PROPOSE}
    assert change <= editor and not sign_off & editor
    assert sign_off <= risk_owner and not change & risk_owner
    assert capabilities_for(Role.ADMIN) == set(TeamCapability)


@pytest.mark.parametrize("role", [None, "", "owner", "superuser"])
def test_no_membership_or_an_unknown_role_grants_nothing(role: str | None) -> None:
    assert capabilities_for(role) == frozenset()
    assert Capabilities.of(role).granted == frozenset()


@pytest.mark.parametrize("capability", list(TeamCapability))
def test_roles_with_lists_the_granting_roles_in_role_order(capability: TeamCapability) -> None:
    expected = tuple(role.value for role in ROLES if EXPECTED[(role.value, capability.value)])
    assert roles_with(capability) == expected


# --- the plan workflow takes its roles from the table ---


@pytest.mark.parametrize(
    ("action", "capability"),
    [
        (workflow.APPROVE, TeamCapability.APPROVE),
        (workflow.REJECT, TeamCapability.APPROVE),
        (workflow.VERIFY, TeamCapability.APPROVE),
        (workflow.IMPLEMENT, TeamCapability.PROPOSE),
        (workflow.WITHDRAW, TeamCapability.PROPOSE),
    ],
)
def test_each_plan_action_needs_one_capability(action: str, capability: TeamCapability) -> None:
    transition = workflow.BY_ACTION[action]
    assert transition.capability is capability
    assert transition.roles == set(roles_with(capability))


@pytest.mark.parametrize("role", [None, *ROLES])
def test_only_proposers_edit_plans(role: str | None) -> None:
    plan = workflow.PlanFacts(status=workflow.PROPOSED, proposed_by=99)
    actor = workflow.ActorFacts(user_id=1, role=role)
    assert workflow.can_edit(plan, actor) is (role in (Role.EDITOR, Role.ADMIN))


# --- one actor in one team ---


def test_an_anonymous_caller_has_no_capabilities_and_costs_no_query(
    team_a: Team, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        assert capabilities_of(AnonymousUser(), team_a) is NO_CAPABILITIES


@pytest.mark.parametrize("role", ROLES)
def test_capabilities_of_reads_the_membership_in_one_query(
    role: Role, team_a: Team, django_assert_num_queries: Any
) -> None:
    user = UserFactory()
    MembershipFactory(team=team_a, user=user, role=role)
    with django_assert_num_queries(1):
        capabilities = capabilities_of(user, team_a)
    assert capabilities == Capabilities(role=role, granted=capabilities_for(role))


def test_a_member_of_another_team_has_no_capabilities_here(outsider: Any, team_a: Team) -> None:
    assert capabilities_of(outsider, team_a) == NO_CAPABILITIES


def test_require_answers_the_capabilities_or_refuses_with_its_message(viewer: Any, editor: Any, team_a: Team) -> None:
    assert TeamCapability.EDIT_MODEL in require(editor, team_a, TeamCapability.EDIT_MODEL)
    with pytest.raises(PermissionDenied, match=DENIED):
        require(viewer, team_a, TeamCapability.EDIT_MODEL)
    with pytest.raises(PermissionDenied, match="Viewers cannot comment."):
        require(viewer, team_a, TeamCapability.COMMENT, "Viewers cannot comment.")


# --- querysets filter teams by the table's roles ---


def test_querysets_filter_teams_by_the_roles_of_the_table(db: None) -> None:
    user = UserFactory()
    teams = {role: TeamFactory() for role in ROLES}
    for role, team in teams.items():
        MembershipFactory(team=team, user=user, role=role)
    TeamFactory()  # a team the user is not in: never in any answer
    for capability in TeamCapability:
        expected = {teams[Role(role)].pk for role in roles_with(capability)}
        assert set(Team.objects.with_capability(user, capability).values_list("pk", flat=True)) == expected
    assert set(Team.objects.visible_to(user)) == set(teams.values())
    assert set(Team.objects.editable_by(user)) == {teams[Role.EDITOR], teams[Role.ADMIN]}
    assert not Team.objects.with_capability(AnonymousUser(), TeamCapability.VIEW_SYSTEM).exists()


# --- system_get: the system and the caller's capabilities in one query ---


@pytest.mark.parametrize("role", ROLES)
def test_system_get_answers_the_system_and_the_callers_capabilities_in_one_query(
    role: Role, team_a: Team, django_assert_num_queries: Any
) -> None:
    user = UserFactory()
    MembershipFactory(team=team_a, user=user, role=role)
    made = SystemFactory(team=team_a)
    with django_assert_num_queries(1):
        system = selectors.system_get(user=user, slug=made.slug)
        assert system.team.slug == team_a.slug  # the team comes with it too
        capabilities = system.capabilities
    assert system.pk == made.pk
    assert capabilities == Capabilities(role=role, granted=capabilities_for(role))


def test_the_system_page_selector_brings_the_capabilities_too(
    editor: Any, team_a: Team, django_assert_num_queries: Any
) -> None:
    made: System = SystemFactory(team=team_a)
    with django_assert_num_queries(1):
        system = selectors.system_with_counts(user=editor, slug=made.slug)
    assert system.capabilities.role == Role.EDITOR
    assert TeamCapability.EDIT_MODEL in system.capabilities
