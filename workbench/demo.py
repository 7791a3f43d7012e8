"""The demo team and system: an LLM serving platform, built through the services.

Flows point from the side that opens the connection to the side that answers, because that is
the direction an attacker who holds the initiator can move; ``carries`` says what content
travels. Package pulls are bidirectional because the answer (code) comes back and runs.

Loading is idempotent: every element is looked up by name first and only missing ones are
created, so running it twice gives the same rows.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from workbench.choices import Role
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

M = Decimal(1_000_000)

ZONES: tuple[dict[str, Any], ...] = (
    {"name": "Edge", "trust_level": 1, "description": "Public entry: gateway and load balancers."},
    {"name": "Serving", "trust_level": 2, "description": "Inference services and GPU serving hosts."},
    {"name": "Corporate", "trust_level": 2, "description": "Staff devices, code hosting and CI."},
    {"name": "ML platform", "trust_level": 3, "description": "Training, notebooks, registry and model storage."},
    {"name": "Security core", "trust_level": 4, "description": "Secrets and identity."},
)

# name, kind, zone, extra fields
ASSETS: tuple[tuple[str, str, str | None, dict[str, Any]], ...] = (
    (
        "Edge API gateway",
        "api_gateway",
        "Edge",
        {"internet_facing": True, "authentication": "none", "logging": True, "criticality": 3},
    ),
    (
        "Public inference API",
        "inference_endpoint",
        "Serving",
        {
            "internet_facing": True,
            "authentication": "none",
            "output_granularity": "logits",
            "model_class": "llm",
            "logging": True,
            "criticality": 4,
            "value_min": 2 * M,
            "value_likely": 5 * M,
            "value_max": 20 * M,
        },
    ),
    ("GPU serving hosts", "gpu_host", "Serving", {"authentication": "mtls", "criticality": 4}),
    (
        "Weights bucket",
        "object_store",
        "ML platform",
        {"authentication": "sso", "encrypted_at_rest": True, "criticality": 5},
    ),
    (
        "DR weights replica",
        "object_store",
        "ML platform",
        {"authentication": "api_key", "criticality": 4, "description": "Cross-region copy for recovery."},
    ),
    (
        "Model registry",
        "model_registry",
        "ML platform",
        {"authentication": "password", "logging": True, "criticality": 4},
    ),
    ("Data lake", "object_store", "ML platform", {"authentication": "sso", "encrypted_at_rest": True}),
    ("Training cluster", "training_cluster", "ML platform", {"authentication": "sso", "criticality": 4}),
    # JupyterHub behind SSO with MFA, reached from engineer workstations over the VPN: the hardened
    # setup a platform team runs. Opened to the internet with a password, it was the anonymous
    # user's easiest way to the weights (0.002 against 0.0013 through the public API), which is
    # a misconfiguration to fix, not the product this demo models. It still pulls packages from
    # the public index and serves the contractor, so code execution through it stays a finding.
    (
        "Notebook server",
        "notebook",
        "ML platform",
        {
            "authentication": "sso",
            "mfa": True,
            "description": "JupyterHub behind single sign-on with MFA; remote staff reach it over the VPN.",
        },
    ),
    ("CI pipeline", "ci_pipeline", "Corporate", {"authentication": "sso"}),
    ("Code repository", "code_repository", "Corporate", {"authentication": "sso", "mfa": True, "third_party": True}),
    (
        "Public package index",
        "package_source",
        None,
        {"internet_facing": True, "authentication": "none", "third_party": True, "criticality": 2},
    ),
    (
        "Secrets store",
        "secrets_store",
        "Security core",
        {"authentication": "mtls", "encrypted_at_rest": True, "logging": True, "monitored": True, "criticality": 5},
    ),
    (
        "Identity provider",
        "identity_provider",
        "Security core",
        {"authentication": "password", "mfa": True, "logging": True, "monitored": True},
    ),
    ("Monitoring", "monitoring", "Corporate", {"authentication": "sso", "logging": True}),
    ("Engineer workstations", "workstation", "Corporate", {"authentication": "sso", "mfa": True}),
    ("ML engineers", "human_role", "Corporate", {"personnel": "employee", "authentication": "sso", "mfa": True}),
    ("Contractor", "human_role", None, {"personnel": "contractor", "authentication": "password", "third_party": True}),
    # Data assets live on hosts (hosted_on is filled in a second pass).
    (
        "Flagship LLM weights",
        "model_weights",
        "ML platform",
        {
            "criticality": 5,
            "size_gb": Decimal(140),
            "model_class": "llm",
            "value_min": 40 * M,
            "value_likely": 120 * M,
            "value_max": 400 * M,
        },
    ),
    (
        "Fine-tune adapters",
        "adapter",
        "ML platform",
        {"criticality": 4, "size_gb": Decimal(2), "value_min": 1 * M, "value_likely": 3 * M, "value_max": 10 * M},
    ),
    (
        "Training checkpoints",
        "checkpoint",
        "ML platform",
        {"criticality": 4, "size_gb": Decimal(900), "value_min": 10 * M, "value_likely": 40 * M, "value_max": 150 * M},
    ),
    (
        "Training corpus",
        "training_data",
        "ML platform",
        {"criticality": 4, "value_min": 2 * M, "value_likely": 8 * M, "value_max": 25 * M},
    ),
    (
        "Chat system prompt",
        "system_prompt",
        "Serving",
        {
            "criticality": 3,
            "value_min": Decimal(50_000),
            "value_likely": Decimal(200_000),
            "value_max": Decimal(1_000_000),
        },
    ),
)

HOSTED_ON = {
    "Flagship LLM weights": "Weights bucket",
    "Fine-tune adapters": "Model registry",
    "Training checkpoints": "DR weights replica",
    "Training corpus": "Data lake",
    "Chat system prompt": "Public inference API",
}

# name, source, target, extra fields, carried assets
FLOWS: tuple[tuple[str, str, str, dict[str, Any], tuple[str, ...]], ...] = (
    ("Public requests", "Edge API gateway", "Public inference API", {"protocol": "https", "authenticated": False}, ()),
    ("Inference calls", "Public inference API", "GPU serving hosts", {"protocol": "grpc"}, ("Chat system prompt",)),
    ("Load weights", "GPU serving hosts", "Weights bucket", {"protocol": "s3"}, ("Flagship LLM weights",)),
    ("Write checkpoints", "Training cluster", "DR weights replica", {"protocol": "s3"}, ("Training checkpoints",)),
    ("Publish weights", "Training cluster", "Weights bucket", {"protocol": "s3"}, ("Flagship LLM weights",)),
    (
        "Replicate weights",
        "Weights bucket",
        "DR weights replica",
        {"protocol": "s3", "encrypted": False},
        ("Flagship LLM weights",),
    ),
    ("Read corpus", "Training cluster", "Data lake", {"protocol": "s3"}, ("Training corpus",)),
    ("Register models", "Training cluster", "Model registry", {"protocol": "https"}, ("Fine-tune adapters",)),
    ("Submit training jobs", "Notebook server", "Training cluster", {"protocol": "https"}, ()),
    ("Explore data", "Notebook server", "Data lake", {"protocol": "s3"}, ("Training corpus",)),
    (
        "Notebook package installs",
        "Notebook server",
        "Public package index",
        {"protocol": "https", "authenticated": False, "bidirectional": True},
        (),
    ),
    ("Engineer sessions", "ML engineers", "Engineer workstations", {"protocol": "local"}, ()),
    ("Remote notebooks", "Engineer workstations", "Notebook server", {"protocol": "https"}, ()),
    ("Registry access", "Engineer workstations", "Model registry", {"protocol": "https"}, ("Fine-tune adapters",)),
    ("Push code", "Engineer workstations", "Code repository", {"protocol": "ssh"}, ()),
    ("Single sign-on", "Engineer workstations", "Identity provider", {"protocol": "oidc"}, ()),
    ("Contractor evaluation access", "Contractor", "Model registry", {"protocol": "https"}, ("Fine-tune adapters",)),
    ("Contractor notebooks", "Contractor", "Notebook server", {"protocol": "https"}, ()),
    ("Build from source", "CI pipeline", "Code repository", {"protocol": "https"}, ()),
    (
        "CI package installs",
        "CI pipeline",
        "Public package index",
        {"protocol": "https", "authenticated": False, "bidirectional": True},
        (),
    ),
    ("Deploy serving images", "CI pipeline", "GPU serving hosts", {"protocol": "ssh"}, ()),
    ("Fetch deploy secrets", "CI pipeline", "Secrets store", {"protocol": "https"}, ()),
    ("Training secrets", "Training cluster", "Secrets store", {"protocol": "https"}, ()),
    ("Serving telemetry", "GPU serving hosts", "Monitoring", {"protocol": "otlp"}, ()),
)

ATTACKER_ENTRIES = {
    "Malicious insider": ("ML engineers", "Contractor"),
    "Compromised supplier": ("Public package index",),
}


def _ensure_user(username: str, password: str) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


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
    for name, host in HOSTED_ON.items():
        if assets[name].hosted_on_id is None:
            asset_save(actor=admin, system=system, asset=assets[name], hosted_on=assets[host])
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
