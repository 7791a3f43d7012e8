"""The mitigation-plan workflow as a pure transition table with guards (no database, no I/O).

    proposed --approve--> approved --implement--> implemented --verify--> verified
    proposed --reject---> rejected
    proposed|approved --withdraw--> withdrawn
    proposed|approved|implemented|verified ..(scope deleted, by the system)..> obsolete

Editing a plan is not an action of the table: it is allowed in ``EDITABLE`` states and sends an
approved plan back to proposed (the approval covered other content). ``obsolete`` is not an
action either: ``mitigations.services.obsolete`` sets it when every asset and flow in a scoped
plan's scope was deleted, so the plan stops counting as a control. Services ask ``decide``
before every change; it answers the target state or raises, in this order:

1. ``NotPermitted`` when the actor's role may never take the action (a 403 whatever the state),
2. ``InvalidTransition`` when the action does not leave the current state (a 409),
3. ``NotPermitted`` when a guard refuses this actor for this plan (four eyes: a 403).

Which roles may take an action is not decided here: each transition names the capability it
needs and ``workbench.permissions`` says which roles grant it (a plain table, no I/O either).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.choices import Role
from workbench.errors import ConflictError
from workbench.permissions import TeamCapability, capabilities_for, roles_with

PROPOSED = "proposed"
APPROVED = "approved"
REJECTED = "rejected"
IMPLEMENTED = "implemented"
VERIFIED = "verified"
WITHDRAWN = "withdrawn"
# Set by the system, never by an action: every asset and flow the plan was scoped to is gone.
OBSOLETE = "obsolete"
STATES: tuple[str, ...] = (PROPOSED, APPROVED, REJECTED, IMPLEMENTED, VERIFIED, WITHDRAWN, OBSOLETE)
TERMINAL = frozenset({REJECTED, VERIFIED, WITHDRAWN, OBSOLETE})

# Which plans put their control in force in which risk view (DESIGN.md §4.6).
CURRENT_STATES = frozenset({IMPLEMENTED, VERIFIED})
PROJECTED_STATES = frozenset({PROPOSED, APPROVED})
EDITABLE = frozenset({PROPOSED, APPROVED})

APPROVE, REJECT, IMPLEMENT, VERIFY, WITHDRAW = "approve", "reject", "implement", "verify", "withdraw"
ACTIONS: tuple[str, ...] = (APPROVE, REJECT, IMPLEMENT, VERIFY, WITHDRAW)
DECISIONS = frozenset({APPROVE, REJECT})

# Team roles by their plain names (``ActorFacts.role`` holds one of them, or None).
VIEWER, EDITOR, RISK_OWNER, ADMIN = Role.VIEWER.value, Role.EDITOR.value, Role.RISK_OWNER.value, Role.ADMIN.value


@dataclass(frozen=True)
class PlanFacts:
    """What the guards need to know about a plan."""

    status: str
    proposed_by: int | None
    edited_by: int | None = None
    implemented_by: int | None = None
    # Everyone who wrote any revision of the content (the proposer and every editor since).
    authors: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ActorFacts:
    user_id: int | None
    role: str | None


class WorkflowError(Exception):
    """Base of the refusals; ``current`` is the plan's state when it was refused."""

    def __init__(self, message: str, current: str) -> None:
        super().__init__(message)
        self.current = current


class InvalidTransition(WorkflowError, ConflictError):
    """The action does not leave the plan's current state: a 409 naming that state (``status``)."""

    code = "invalid_transition"

    def extra(self) -> dict[str, Any]:
        return {"status": self.current}


class NotPermitted(WorkflowError):
    """The actor may not take this action (role, or a four-eyes guard)."""


class StaleRevision(InvalidTransition):
    """The decision names a revision the plan has left: the reviewer saw other content (a 409)."""

    def __init__(self, message: str, current: str, revision: int, content_hash: str) -> None:
        super().__init__(message, current)
        self.revision = revision
        self.content_hash = content_hash

    code = "stale_revision"

    def extra(self) -> dict[str, Any]:
        """The plan's current revision and hash besides its state, to re-read and decide again."""
        return {**super().extra(), "revision": self.revision, "content_hash": self.content_hash}


Guard = Callable[[PlanFacts, ActorFacts], str | None]  # a refusal reason, or None to allow


def not_the_author(plan: PlanFacts, actor: ActorFacts) -> str | None:
    """Four eyes: whoever wrote any revision of what the plan says (its proposer, every editor
    since) never decides on it; an admin who rewrote a plan cannot approve it later."""
    if actor.user_id is not None and actor.user_id in {plan.proposed_by, plan.edited_by, *plan.authors}:
        return "Four eyes: nobody who proposed or changed a plan's content can approve or reject it."
    return None


def not_the_implementer(plan: PlanFacts, actor: ActorFacts) -> str | None:
    """Four eyes again: the person who reports a control as implemented does not verify it."""
    if actor.user_id is not None and actor.user_id == plan.implemented_by:
        return "Four eyes: whoever implemented a plan cannot verify it."
    return None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    capability: TeamCapability
    guards: tuple[Guard, ...] = ()

    @property
    def roles(self) -> frozenset[str]:
        """The roles that may take the action: those granting ``capability``."""
        return frozenset(roles_with(self.capability))


TABLE: tuple[Transition, ...] = (
    Transition(APPROVE, frozenset({PROPOSED}), APPROVED, TeamCapability.APPROVE, (not_the_author,)),
    Transition(REJECT, frozenset({PROPOSED}), REJECTED, TeamCapability.APPROVE, (not_the_author,)),
    Transition(IMPLEMENT, frozenset({APPROVED}), IMPLEMENTED, TeamCapability.PROPOSE),
    Transition(VERIFY, frozenset({IMPLEMENTED}), VERIFIED, TeamCapability.APPROVE, (not_the_implementer,)),
    Transition(WITHDRAW, frozenset({PROPOSED, APPROVED}), WITHDRAWN, TeamCapability.PROPOSE),
)
BY_ACTION: dict[str, Transition] = {t.action: t for t in TABLE}


def allowed_pairs() -> set[tuple[str, str]]:
    """Every (state, action) the table allows; the tests build their matrix from this."""
    return {(state, t.action) for t in TABLE for state in t.sources}


def target_of(state: str, action: str) -> str | None:
    transition = BY_ACTION.get(action)
    return transition.target if transition is not None and state in transition.sources else None


def decide(action: str, plan: PlanFacts, actor: ActorFacts) -> str:
    """The state ``action`` moves the plan to, or a ``WorkflowError`` (see the module docstring)."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise InvalidTransition(f"Unknown action {action!r}.", plan.status)
    if transition.capability not in capabilities_for(actor.role):
        raise NotPermitted(f"Your role in this team cannot {action} plans.", plan.status)
    if plan.status not in transition.sources:
        raise InvalidTransition(f"A {plan.status} plan cannot be {_past(action)}.", plan.status)
    for guard in transition.guards:
        reason = guard(plan, actor)
        if reason is not None:
            raise NotPermitted(reason, plan.status)
    return transition.target


def available_actions(plan: PlanFacts, actor: ActorFacts) -> list[str]:
    """Actions this actor could take now, in table order (for showing buttons)."""
    result = []
    for transition in TABLE:
        try:
            decide(transition.action, plan, actor)
        except WorkflowError:
            continue
        result.append(transition.action)
    return result


def can_edit(plan: PlanFacts, actor: ActorFacts) -> bool:
    """Whether the actor may change the plan now: a proposer's role, and a state that allows edits."""
    return TeamCapability.PROPOSE in capabilities_for(actor.role) and plan.status in EDITABLE


def status_after_edit(status: str, content_changed: bool) -> str:
    """An edit that changes an approved plan's content voids the approval."""
    if status not in EDITABLE:
        raise InvalidTransition(f"A {status} plan can no longer be edited.", status)
    return PROPOSED if content_changed else status


def _past(action: str) -> str:
    return {APPROVE: "approved", REJECT: "rejected", IMPLEMENT: "implemented", VERIFY: "verified"}.get(
        action, "withdrawn"
    )
