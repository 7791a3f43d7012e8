"""Adding and removing comments on findings.

Who writes is the ``COMMENT`` capability of ``workbench.permissions``, as for plan comments
(editors, risk owners and admins write, viewers read); an author removes their own comment while
they may still comment, and ``ADMINISTER_TEAM`` removes anyone's. A comment changes no element of
the model and no risk figure, so neither service bumps ``System.version`` (no recompute is
queued); each writes one audit event on the system instead, which is how comments reach the
system's activity feed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from threats.models import Finding, FindingComment
from threats.models.comments import MAX_BODY
from workbench.permissions import Capabilities, TeamCapability, capabilities_of
from workbench.services.audit import audit_instance
from workbench.services.common import Actor


def clean_body(body: str | None) -> str:
    """The stripped text (CR LF as LF), or a ValidationError on ``body``: empty, too long or with a NUL."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_BODY:
        raise ValidationError({"body": f"Write a comment of 1 to {MAX_BODY} characters."})
    if "\x00" in text:  # PostgreSQL cannot store it; forms and serializers refuse it too
        raise ValidationError({"body": "A comment cannot contain NUL characters."})
    return text


def can_comment(*, actor: Actor, finding: Finding) -> bool:
    return TeamCapability.COMMENT in capabilities_of(actor, finding.system.team)


def may_remove(*, capabilities: Capabilities, actor: Actor, comment: FindingComment) -> bool:
    """A team admin removes any comment; an author removes their own while they may still comment.

    Takes the actor's capabilities in the comment's team, so a page can decide for many comments
    at once.
    """
    if TeamCapability.ADMINISTER_TEAM in capabilities:
        return True
    return TeamCapability.COMMENT in capabilities and comment.author_id is not None and comment.author_id == actor.pk


def can_remove(*, actor: Actor, comment: FindingComment) -> bool:
    return may_remove(capabilities=capabilities_of(actor, comment.team), actor=actor, comment=comment)


@transaction.atomic
def finding_comment_add(*, actor: Actor, finding: Finding, body: str) -> FindingComment:
    """Comment on ``finding`` as ``actor``; returns the saved comment.

    Raises PermissionDenied for viewers and non-members, ValidationError on ``body`` for an empty
    or over-long text (nothing is written then). Side effect: one "comment" audit event on the
    finding, in the same transaction. The system version is left alone.
    """
    if not can_comment(actor=actor, finding=finding):
        raise PermissionDenied("Viewers cannot comment.")
    text = clean_body(body)
    comment = FindingComment(
        team_id=finding.team_id,
        system_id=finding.system_id,
        finding=finding,
        author_id=actor.pk,
        author_name=actor.get_username(),
        body=text,
    )
    comment.full_clean()
    comment.save()
    after = {"comment_id": comment.pk, "comment": text}
    audit_instance(actor=actor, verb="comment", instance=finding, system=finding.system, after=after)
    return comment


@transaction.atomic
def finding_comment_remove(*, actor: Actor, comment: FindingComment) -> None:
    """Delete a comment (its author, or a team admin); a comment already gone is a no-op.

    The "remove_comment" audit event keeps the removed text, so the record of what was said
    survives the row. Raises PermissionDenied for anyone else. No version bump.
    """
    if not can_remove(actor=actor, comment=comment):
        raise PermissionDenied("Only the author or a team admin can remove a comment.")
    # Locked and re-read: of two removals racing, the second finds nothing and records nothing.
    locked = FindingComment.objects.select_for_update(of=("self",)).select_related(
        "finding__template", "finding__system__team"
    )
    row = locked.filter(pk=comment.pk).first()
    if row is None:
        return
    finding = row.finding
    before = {"comment_id": row.pk, "comment": row.body, "author": row.author_name}
    row.delete()
    audit_instance(actor=actor, verb="remove_comment", instance=finding, system=finding.system, before=before)
