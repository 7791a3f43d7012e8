"""The demo team and system: an LLM serving platform, built through the services.

Risk method v2 (DESIGN.md §3-4): a flow points the way its main payload moves and ``initiator``
says which end opens the connection (GPU hosts pull weights from the bucket; CI pulls packages
from the public index, so compromise travels with the packages into CI). ``carries`` says what
content travels. The jewels have their real copies: the flagship weights are stored in the
weights bucket (system of record) and a DR replica in a separate cloud account, and loaded in
memory on the serving fleet and on the eval host. The public API serves the flagship model and
its adapters; a distilled clone is worth about an eighth of the weights, and an abuser of the
anonymous API burns GPU time by the day. The public API sits behind the edge gateway, which
routes only the inference paths. The seeded insider starts at the employees, the seeded supplier
at the public package index (ATTACKER_ENTRIES says why the other suppliers are left out).

Loading is idempotent: every element is looked up by name first and only missing ones are
created, and relations are completed only where they are a part of the demo's (so a database
migrated from v1, whose weights had only their bucket, gets the other copies); running it twice
gives the same rows.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from workbench.choices import Role
from workbench.demo_data import ASSETS, ATTACKER_ENTRIES, COPIES, FLOWS, SERVES, ZONES
from workbench.models import Asset, AttackerProfile, DataFlow, Membership, System, Team, TrustZone
from workbench.services.elements import asset_save, attacker_save, flow_save, zone_save
from workbench.services.systems import system_create
from workbench.services.teams import team_create

TEAM_NAME = "Demo AI Platform"
SYSTEM_NAME = "LLM serving platform"
USERS = (
    ("demo", Role.ADMIN),
    ("demo-editor", Role.EDITOR),
    ("demo-risk", Role.RISK_OWNER),
    ("demo-viewer", Role.VIEWER),
)


def _ensure_user(username: str, password: str) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def _complete(current: list[int], wanted: list[int]) -> bool:
    """Whether to set a relation to ``wanted``: missing parts of it, and nothing the team added."""
    return current != wanted and set(current) <= set(wanted)


def _complete_relations(admin: User, system: System, assets: dict[str, Asset]) -> None:
    """Give the data assets their copies and the endpoints what they serve (one write each)."""
    for name, spec in COPIES.items():
        current = assets[name].audit_relations()
        change = {
            relation: [assets[holder] for holder in holders]
            for relation, holders in spec.items()
            if _complete(current[relation], [assets[holder].pk for holder in holders])
        }
        if change:
            asset_save(actor=admin, system=system, asset=assets[name], **change)
    for name, models in SERVES.items():
        served = sorted(assets[name].serves.values_list("pk", flat=True))
        if _complete(served, sorted(assets[model].pk for model in models)):
            asset_save(actor=admin, system=system, asset=assets[name], serves=[assets[model] for model in models])


@transaction.atomic
def load_demo(*, password: str | None = None) -> dict[str, Any]:
    """Create or complete the demo team, users and system; returns what was done and the login."""
    password = password or secrets.token_urlsafe(12)
    users = {name: _ensure_user(name, password) for name, _ in USERS}
    admin = users["demo"]
    team = Team.objects.filter(name=TEAM_NAME).first() or team_create(name=TEAM_NAME, creator=admin)
    for name, role in USERS:
        Membership.objects.get_or_create(team=team, user=users[name], defaults={"role": role})
    system = System.objects.filter(team=team, name=SYSTEM_NAME).first() or system_create(
        actor=admin,
        team=team,
        name=SYSTEM_NAME,
        owner=admin,
        risk_appetite=Decimal(5_000_000),
        description="Public LLM chat and API product with its training and release pipeline.",
    )
    created = 0
    zones = {z.name: z for z in TrustZone.objects.filter(system=system)}
    for spec in ZONES:
        if spec["name"] not in zones:
            zones[spec["name"]] = zone_save(actor=admin, system=system, **spec)
            created += 1
    assets = {a.name: a for a in Asset.objects.filter(system=system)}
    for name, kind, zone, extra in ASSETS:
        if name not in assets:
            assets[name] = asset_save(
                actor=admin,
                system=system,
                name=name,
                kind=kind,
                zone=zones.get(zone) if zone else zones.get("Internet"),
                **extra,
            )
            created += 1
    _complete_relations(admin, system, assets)
    flow_names = set(DataFlow.objects.filter(system=system).values_list("name", flat=True))
    for name, source, target, extra, carried in FLOWS:
        if name not in flow_names:
            flow_save(
                actor=admin,
                system=system,
                name=name,
                source=assets[source],
                target=assets[target],
                carries=[assets[c] for c in carried],
                **extra,
            )
            created += 1
    for profile_name, entries in ATTACKER_ENTRIES.items():
        profile = AttackerProfile.objects.filter(system=system, name=profile_name).first()
        if profile is not None and not profile.entry_assets.exists():
            attacker_save(actor=admin, system=system, attacker=profile, entry_assets=[assets[e] for e in entries])
    return {
        "team": team,
        "system": system,
        "created": created,
        "password": password,
        "users": [name for name, _ in USERS],
    }
