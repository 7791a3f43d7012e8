"""Who may do what in a team: the one table from a membership's role to its capabilities.

Every decision about a member's rights (a page, an API view, a service, a queryset that
filters teams) asks this module. The answers used to live in seven helpers and half a dozen
inline role sets (issue 16, point 1); a change of policy meant finding all of them, and two
could disagree with no test noticing. Now ``POLICY`` is the policy and everything derives
from it: ``capabilities_for(role)`` is a role's set, ``roles_with(capability)`` the roles a
queryset filters teams by, ``capabilities_of`` and ``require`` the checks of one actor.

Pages and API views normally need no query of their own: ``workbench.selectors.system_get``
loads a system together with the caller's role and hands back ``system.capabilities``.
Services still ask ``require`` themselves (one query), so a bug in a view cannot write
across roles.

Decisions that depend on more than the role stay where their facts are, and ask this module
for the role part: the four-eyes guards of plan decisions (``mitigations.workflow``), a
comment's author removing it (``threats.services.comments``), anyone revoking their own
API token (``workbench.services.tokens``).

The module imports no model, not even for type checking (a team is anything with memberships,
``MemberTeam``), so ``workbench.querysets``, the models and the pure plan workflow can use it
without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import PermissionDenied

from workbench.choices import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class MemberTeam(Protocol):
    """A team as this module reads it (``workbench.models.Team``): its memberships."""

    @property
    def memberships(self) -> Any: ...


class TeamCapability(StrEnum):
    """One thing a member may do in a team (the value names it in tests and messages)."""

    # Read everything of the team: systems, findings, plans, acceptances, the audit trail.
    VIEW_SYSTEM = "view_system"
    # Change a system's model: create, change, delete systems and their elements; inventory
    # sync, batch edits, diagram positions, generated systems.
    EDIT_MODEL = "edit_model"
    # Propose a mitigation plan and carry it: edit or delete it, report it implemented,
    # withdraw it.
    PROPOSE = "propose"
    # Decide on proposed plans (approve, reject) and verify implemented ones; the four-eyes
    # guards of ``mitigations.workflow`` still refuse a plan's own authors.
    APPROVE = "approve"
    # Accept a finding's risk for a while, and revoke an acceptance.
    ACCEPT_RISK = "accept_risk"
    # Comment on findings and plans, and remove one's own comments.
    COMMENT = "comment"
    # Ask for a recompute of a system's findings and risk through the API.
    REQUEST_RECOMPUTE = "request_recompute"
    # Hold a read-only API token for the team.
    ISSUE_READ_TOKEN = "issue_read_token"  # noqa: S105 - the name of a right, not a secret
    # Hold a read-write API token (what it writes is still limited by the role).
    ISSUE_WRITE_TOKEN = "issue_write_token"  # noqa: S105 - the name of a right, not a secret
    # See and revoke every member's API tokens of the team (one's own need no capability).
    MANAGE_TOKENS = "manage_tokens"
    # Set members' roles, configure the team webhook, remove anyone's comment.
    ADMINISTER_TEAM = "administer_team"


_VIEWER = frozenset({TeamCapability.VIEW_SYSTEM, TeamCapability.ISSUE_READ_TOKEN})
# Editors and risk owners share what any contributor does (comment, recompute, write tokens);
# beyond that they are disjoint on purpose: risk owners approve and accept, they do not edit
# the model or the plans they sign off (separation of duties, docs/adr/0001).
_CONTRIBUTOR = _VIEWER | {TeamCapability.COMMENT, TeamCapability.REQUEST_RECOMPUTE, TeamCapability.ISSUE_WRITE_TOKEN}

POLICY: Mapping[str, frozenset[TeamCapability]] = MappingProxyType(
    {
        Role.VIEWER: _VIEWER,
        Role.EDITOR: _CONTRIBUTOR | {TeamCapability.EDIT_MODEL, TeamCapability.PROPOSE},
        Role.RISK_OWNER: _CONTRIBUTOR | {TeamCapability.APPROVE, TeamCapability.ACCEPT_RISK},
        Role.ADMIN: frozenset(TeamCapability),
    }
)

# The refusal of a service check when the caller names nothing more specific.
DENIED = "Your role in this team does not allow this change."


def capabilities_for(role: str | None) -> frozenset[TeamCapability]:
    """What ``role`` grants; nothing for no membership (``None``) or a role this code does not know."""
    return POLICY.get(role, frozenset()) if role is not None else frozenset()


def roles_with(capability: TeamCapability) -> tuple[str, ...]:
    """The roles that grant ``capability``, in ``Role`` order (what querysets filter teams by)."""
    return tuple(role.value for role in Role if capability in POLICY[role])


@dataclass(frozen=True)
class Capabilities:
    """One actor's role in one team and what it grants.

    ``capability in caps`` asks; ``caps.require(capability)`` refuses with a 403. ``role`` is
    kept for the few callers that need the role itself (the plan workflow's facts).
    """

    role: str | None
    granted: frozenset[TeamCapability]

    @classmethod
    def of(cls, role: str | None) -> Capabilities:
        return cls(role=role, granted=capabilities_for(role))

    def __contains__(self, capability: object) -> bool:
        return capability in self.granted

    def require(self, capability: TeamCapability, message: str = DENIED) -> Capabilities:
        """``self``, or ``PermissionDenied(message)`` when the role does not grant ``capability``."""
        if capability not in self.granted:
            raise PermissionDenied(message)
        return self


NO_CAPABILITIES = Capabilities.of(None)


def capabilities_of(actor: AbstractBaseUser | AnonymousUser, team: MemberTeam) -> Capabilities:
    """The actor's capabilities in ``team``: one query for a signed-in user, none for anonymous."""
    if not actor.is_authenticated:
        return NO_CAPABILITIES
    role = team.memberships.filter(user_id=actor.pk).values_list("role", flat=True).first()
    return Capabilities.of(role)


def require(
    actor: AbstractBaseUser | AnonymousUser, team: MemberTeam, capability: TeamCapability, message: str = DENIED
) -> Capabilities:
    """The actor's capabilities in ``team``, or ``PermissionDenied(message)`` without ``capability``.

    Services call this before they write; the message reaches the user as the 403's text.
    """
    return capabilities_of(actor, team).require(capability, message)
