"""The pure transition table: its shape, its guards, and properties over every input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mitigations import workflow
from mitigations.workflow import ActorFacts, InvalidTransition, NotPermitted, PlanFacts

ROLES = [None, workflow.VIEWER, workflow.EDITOR, workflow.RISK_OWNER, workflow.ADMIN]
ids = st.one_of(st.none(), st.integers(min_value=1, max_value=5))
plans = st.builds(
    PlanFacts,
    status=st.sampled_from(workflow.STATES),
    proposed_by=ids,
    edited_by=ids,
    implemented_by=ids,
    authors=st.frozensets(st.integers(min_value=1, max_value=5), max_size=3),
)
actors = st.builds(ActorFacts, user_id=ids, role=st.sampled_from(ROLES))


def test_the_table_is_the_documented_workflow():
    assert workflow.allowed_pairs() == {
        ("proposed", "approve"),
        ("proposed", "reject"),
        ("approved", "implement"),
        ("implemented", "verify"),
        ("proposed", "withdraw"),
        ("approved", "withdraw"),
    }


def test_terminal_states_have_no_way_out():
    assert not {state for state, _ in workflow.allowed_pairs()} & workflow.TERMINAL


def test_every_state_but_obsolete_is_reachable_from_proposed():
    """``obsolete`` is the system's verdict on a plan whose scope was deleted, never an action."""
    reached, frontier = {workflow.PROPOSED}, [workflow.PROPOSED]
    while frontier:
        state = frontier.pop()
        for action in workflow.ACTIONS:
            target = workflow.target_of(state, action)
            if target is not None and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(workflow.STATES) - {workflow.OBSOLETE}
    assert workflow.OBSOLETE in workflow.TERMINAL


def outcome(action: str, plan: PlanFacts, actor: ActorFacts) -> tuple[str, str]:
    try:
        return "ok", workflow.decide(action, plan, actor)
    except InvalidTransition as exc:
        return "invalid", exc.current
    except NotPermitted as exc:
        return "refused", exc.current


@given(plan=plans, actor=actors, action=st.sampled_from([*workflow.ACTIONS, "delete", ""]))
def test_decide_answers_the_table_or_refuses(plan, actor, action):
    kind, value = outcome(action, plan, actor)
    transition = workflow.BY_ACTION.get(action)
    if transition is None:
        assert (kind, value) == ("invalid", plan.status)
    elif actor.role not in transition.roles:
        assert (kind, value) == ("refused", plan.status)
    elif plan.status not in transition.sources:
        assert (kind, value) == ("invalid", plan.status)
    elif kind == "refused":
        assert any(guard(plan, actor) for guard in transition.guards)
    else:
        assert (kind, value) == ("ok", transition.target)


@given(plan=plans, actor=actors, action=st.sampled_from(sorted(workflow.DECISIONS)))
def test_nobody_decides_on_a_plan_they_wrote_any_revision_of(plan, actor, action):
    if actor.user_id is not None and actor.user_id in {plan.proposed_by, plan.edited_by, *plan.authors}:
        with pytest.raises((NotPermitted, InvalidTransition)):
            workflow.decide(action, plan, actor)


def test_an_earlier_editor_is_refused_even_when_someone_else_edited_last():
    plan = PlanFacts(status=workflow.PROPOSED, proposed_by=1, edited_by=1, authors=frozenset({1, 2}))
    with pytest.raises(NotPermitted, match="Four eyes"):
        workflow.decide(workflow.APPROVE, plan, ActorFacts(user_id=2, role=workflow.ADMIN))
    assert workflow.decide(workflow.APPROVE, plan, ActorFacts(user_id=3, role=workflow.ADMIN)) == workflow.APPROVED


@given(plan=plans, actor=actors)
def test_the_implementer_never_verifies(plan, actor):
    if actor.user_id is not None and actor.user_id == plan.implemented_by:
        with pytest.raises((NotPermitted, InvalidTransition)):
            workflow.decide(workflow.VERIFY, plan, actor)


@given(plan=plans, actor=actors)
def test_available_actions_are_exactly_the_ones_decide_allows(plan, actor):
    available = workflow.available_actions(plan, actor)
    for action in workflow.ACTIONS:
        allowed = True
        try:
            workflow.decide(action, plan, actor)
        except workflow.WorkflowError:
            allowed = False
        assert (action in available) is allowed


@pytest.mark.parametrize("role", [workflow.VIEWER, workflow.EDITOR, None])
def test_roles_that_cannot_decide_are_refused_before_the_state_is_looked_at(role):
    plan = PlanFacts(status=workflow.VERIFIED, proposed_by=1)
    with pytest.raises(NotPermitted):
        workflow.decide(workflow.APPROVE, plan, ActorFacts(user_id=9, role=role))


def test_a_permitted_role_in_the_wrong_state_gets_the_current_state():
    plan = PlanFacts(status=workflow.REJECTED, proposed_by=1)
    with pytest.raises(InvalidTransition) as info:
        workflow.decide(workflow.APPROVE, plan, ActorFacts(user_id=9, role=workflow.RISK_OWNER))
    assert info.value.current == workflow.REJECTED


@pytest.mark.parametrize(
    ("status", "changed", "expected"),
    [("proposed", True, "proposed"), ("approved", True, "proposed"), ("approved", False, "approved")],
)
def test_an_edit_voids_an_approval_only_when_the_content_changed(status, changed, expected):
    assert workflow.status_after_edit(status, content_changed=changed) == expected


@pytest.mark.parametrize("status", ["implemented", "verified", "rejected", "withdrawn", "obsolete"])
def test_plans_past_approval_cannot_be_edited(status):
    with pytest.raises(InvalidTransition) as info:
        workflow.status_after_edit(status, content_changed=True)
    assert info.value.current == status


@pytest.mark.django_db
@pytest.mark.parametrize("run", [1, 2])
def test_the_library_fixture_installs_exactly_the_seeded_library(library, run):
    """Run twice: once seeded for real (or from the cache), once from the cache; a real seed on
    top must find nothing to change either way."""
    from threats.services.library import library_seed

    assert not library_seed().changed
