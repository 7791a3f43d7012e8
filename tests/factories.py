"""factory_boy factories for the workbench's domain rows.

Plain factories write rows directly and produce no audit events; use them where the audit chain
does not matter. ``make_system`` goes through ``system_create`` so the chain stays consistent.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from workbench.choices import AssetKind, Capability, Role
from workbench.models import Asset, AttackerProfile, DataFlow, Membership, System, Team, TrustZone
from workbench.services.systems import system_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class SystemFactory(factory.django.DjangoModelFactory):
    """A bare system row: no audit event, no seeded zone or attackers."""

    class Meta:
        model = System

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"System {n}")
    slug = factory.Sequence(lambda n: f"system-{n}")


class TrustZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrustZone

    system = factory.SubFactory(SystemFactory)
    team = factory.SelfAttribute("system.team")
    name = factory.Sequence(lambda n: f"Zone {n}")
    trust_level = 2


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Asset

    system = factory.SubFactory(SystemFactory)
    team = factory.SelfAttribute("system.team")
    name = factory.Sequence(lambda n: f"Asset {n}")
    kind = AssetKind.OBJECT_STORE
    value_min = Decimal(1000)
    value_likely = Decimal(5000)
    value_max = Decimal(20000)


class DataFlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataFlow

    system = factory.SubFactory(SystemFactory)
    team = factory.SelfAttribute("system.team")
    name = factory.Sequence(lambda n: f"Flow {n}")
    source = factory.SubFactory(AssetFactory, system=factory.SelfAttribute("..system"))
    target = factory.SubFactory(AssetFactory, system=factory.SelfAttribute("..system"))
    protocol = "https"


class AttackerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttackerProfile

    system = factory.SubFactory(SystemFactory)
    team = factory.SelfAttribute("system.team")
    name = factory.Sequence(lambda n: f"Attacker {n}")
    capability = Capability.OC2
    attempts_per_year = Decimal(2)
    budget = Decimal(10000)


_system_numbers = itertools.count(1)


def make_system(*, actor: Any, team: Team, seed_defaults: bool = True, **fields: Any) -> System:
    """Create a system through the service (audit events included); ``actor`` must edit ``team``."""
    fields.setdefault("name", f"Service system {next(_system_numbers)}")
    return system_create(actor=actor, team=team, seed_defaults=seed_defaults, **fields)


def exposed_classifier(*, actor: Any, system: System, model_name: str = "Chat model") -> tuple[Asset, Asset]:
    """(model, endpoint): an anonymous, internet-facing "Chat API" serving a classifier valued
    1M / 2M / 5M that answers with logits, so query extraction is T-EXTRACT-API (risk method v2)."""
    from workbench.services.elements import asset_save

    model = asset_save(
        actor=actor,
        system=system,
        name=model_name,
        kind="model_weights",
        criticality=5,
        value_min=1_000_000,
        value_likely=2_000_000,
        value_max=5_000_000,
    )
    api = asset_save(
        actor=actor,
        system=system,
        name="Chat API",
        kind="inference_endpoint",
        zone=system.zones.get(trust_level=0),
        internet_facing=True,
        authentication="none",
        model_class="classifier",
        output_granularity="logits",
        serves=[model],
    )
    return model, api
