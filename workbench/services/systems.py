"""System services: create (with seeded defaults), update and delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from workbench.choices import ActorType, Capability
from workbench.models import AttackerProfile, System, Team, TrustZone
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance
from workbench.services.common import Actor, bump_version, diff, snapshot

SYSTEM_FIELDS = ("name", "description", "owner", "risk_appetite", "currency", "review_due")

# Default attacker profiles (DESIGN.md §3). Entry "internet" starts in the seeded internet zone;
# the insider and supplier start nowhere until the team points them at assets (the insider at
# employees' roles, the supplier at what it supplies: a package source, a vendor's staff).
DEFAULT_ATTACKERS: tuple[dict[str, Any], ...] = (
    {
        "name": "Anonymous API user",
        "actor_type": ActorType.EXTERNAL,
        "capability": Capability.OC1,
        "attempts_per_year": Decimal(12),
        "budget": Decimal(1000),
        "internet": True,
        "description": "Anyone on the internet probing public interfaces with commodity tools.",
    },
    {
        "name": "Cybercrime group",
        "actor_type": ActorType.EXTERNAL,
        "capability": Capability.OC3,
        "attempts_per_year": Decimal(4),
        "budget": Decimal(1000000),
        "internet": True,
        "description": "A funded crew that monetises stolen models, keys and compute.",
    },
    {
        "name": "Malicious insider",
        "actor_type": ActorType.INSIDER,
        "capability": Capability.OC3,
        "attempts_per_year": Decimal("0.2"),
        "budget": Decimal(100000),
        "internet": False,
        "description": "Someone with legitimate access who copies what they can reach.",
    },
    {
        "name": "Nation-state operation",
        "actor_type": ActorType.EXTERNAL,
        "capability": Capability.OC4,
        "attempts_per_year": Decimal("0.3"),
        "budget": Decimal(10000000),
        "internet": True,
        "description": "A state team with exploits, supply-chain reach and patience.",
    },
    {
        "name": "Compromised supplier",
        "actor_type": ActorType.SUPPLIER,
        "capability": Capability.OC3,
        "attempts_per_year": Decimal("0.5"),
        "budget": Decimal(500000),
        "internet": False,
        "description": "A vendor or dependency turned against the system.",
    },
)


def _unique_system_slug(name: str, team: Team) -> str:
    """A slug unique within ``team``, from the team's own slugs only.

    Slugs used to be unique site-wide, so team B's "payments-2" told B that another team had a
    system called Payments. Trailing dashes are trimmed so that a slug never contains "--", the
    separator of the qualified ``<team-slug>--<system-slug>`` form (``workbench.selectors``).
    """
    root = slugify(name)[:60].strip("-_") or "system"
    slug, n = root, 1
    while System.objects.filter(team=team, slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(SYSTEM_FIELDS))
    if unknown:
        raise ValidationError({key: "Unknown field." for key in unknown})
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    return fields


@transaction.atomic
def system_create(*, actor: Actor, team: Team, seed_defaults: bool = True, **fields: Any) -> System:
    """Create a system; by default also an internet zone and the five default attacker profiles."""
    require(actor, team, TeamCapability.EDIT_MODEL)
    fields = _clean_fields(dict(fields))
    system = System(team=team, slug=_unique_system_slug(fields.get("name", ""), team), **fields)
    system.full_clean()
    system.save()
    audit_instance(actor=actor, verb="create", instance=system, system=system, team=team, after=snapshot(system))
    if seed_defaults:
        internet = TrustZone.objects.create(
            team=team, system=system, name="Internet", trust_level=0, description="Anyone, anywhere."
        )
        for spec in DEFAULT_ATTACKERS:
            values = {k: v for k, v in spec.items() if k != "internet"}
            profile = AttackerProfile.objects.create(team=team, system=system, **values)
            if spec["internet"]:
                profile.entry_zones.add(internet)
        seeded = {"zones": 1, "attackers": len(DEFAULT_ATTACKERS)}
        audit_instance(actor=actor, verb="seed_defaults", instance=system, system=system, team=team, after=seeded)
    return system


@transaction.atomic
def system_update(*, actor: Actor, system: System, **fields: Any) -> System:
    """Change a system's own fields; the slug stays stable so URLs and API clients keep working."""
    require(actor, system.team, TeamCapability.EDIT_MODEL)
    fields = _clean_fields(dict(fields))
    # Work on the locked, current row: a stale in-memory copy must never write back an old version.
    # NO KEY: audit events and comments that reference the system are written meanwhile (issue 13.6).
    current = System.objects.select_for_update(no_key=True).get(pk=system.pk)
    before = snapshot(current)
    for key, value in fields.items():
        setattr(current, key, value)
    current.full_clean()
    current.save(update_fields=[*fields, "updated_at"])
    after = snapshot(current)
    system.refresh_from_db()
    old, new = diff(before, after)
    if not new:
        return system
    bump_version(system)
    audit_instance(actor=actor, verb="update", instance=system, system=system, before=old, after=new)
    return system


@transaction.atomic
def system_delete(*, actor: Actor, system: System) -> None:
    """Delete a system and everything in it; the audit keeps its last state and element counts."""
    require(actor, system.team, TeamCapability.EDIT_MODEL)
    before = snapshot(system)
    before["element_counts"] = {
        "zones": system.zones.count(),
        "assets": system.assets.count(),
        "flows": system.flows.count(),
        "attackers": system.attackers.count(),
    }
    team, key, label = system.team, system.pk, system.name
    system.delete()
    audit_instance(actor=actor, verb="delete", instance=system, team=team, key=key, label=label, before=before)
