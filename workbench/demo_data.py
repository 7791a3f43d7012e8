"""The demo system's elements as data: zones, assets with their properties and values, copies,
served models, flows and the attacker profiles' entry points (``workbench.demo`` loads them
through the services; the module docstring there says what the system models).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    # No value of its own (v1 gave it 2 / 5 / 20 M, which counted the model a second time): what
    # querying it can take is priced from the models it serves (their replication value), and
    # what abusing it costs from its compute cost per day (16 nodes x 8 GPUs at about $2.50 an
    # hour is $7,700 a day for the whole fleet; an anonymous abuser gets a share of it).
    (
        "Public inference API",
        "inference_endpoint",
        "Serving",
        {
            # Reached through the edge gateway, which routes only the chat and completion paths:
            # anonymous users query it, they do not reach the runtime's model-management API.
            "authentication": "none",
            "output_granularity": "logits",
            "model_class": "llm",
            "streaming": True,
            "prompt_cache_shared": True,
            "logging": True,
            "criticality": 4,
            "compute_cost_min": Decimal(1_000),
            "compute_cost_likely": Decimal(4_000),
            "compute_cost_max": Decimal(8_000),
            "description": "Chat and completions API with logprobs; prefix caching is shared across users.",
        },
    ),
    (
        "GPU serving hosts",
        "gpu_host",
        "Serving",
        {
            "authentication": "mtls",
            "criticality": 4,
            "instances": 16,
            "description": "Sixteen 8-GPU nodes in a managed GPU cloud; each holds the served models in memory.",
        },
    ),
    (
        "Eval host",
        "gpu_host",
        "ML platform",
        {"authentication": "sso", "criticality": 3, "description": "Runs benchmarks and red-team evaluations."},
    ),
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
        {
            "authentication": "api_key",
            "criticality": 4,
            "description": "Cross-region copy for recovery, in a separate cloud account (static access key).",
        },
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
    (
        "GPU cloud support",
        "human_role",
        None,
        {
            "personnel": "vendor",
            "authentication": "sso",
            "mfa": True,
            "third_party": True,
            "description": "The GPU cloud provider's support engineers, with break-glass access to the serving nodes.",
        },
    ),
    # Data assets live in copies on stores and hosts (COPIES, set in a second pass).
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
            # A clone distilled through the API (logprobs help) keeps a fraction of the model's
            # worth: 10% / 12.5% / 15% of the weights' value.
            "replication_value_min": 4 * M,
            "replication_value_likely": 15 * M,
            "replication_value_max": 60 * M,
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

# Where each data asset's copies are: stored (the first is the system of record) and loaded in
# memory while in use (decrypted whatever the store's encryption).
COPIES: dict[str, dict[str, tuple[str, ...]]] = {
    "Flagship LLM weights": {
        "stored_on": ("Weights bucket", "DR weights replica"),
        "loaded_on": ("GPU serving hosts", "Eval host"),
    },
    "Fine-tune adapters": {"stored_on": ("Model registry",), "loaded_on": ("GPU serving hosts", "Eval host")},
    "Training checkpoints": {
        "stored_on": ("DR weights replica", "Training cluster"),
        "loaded_on": ("Training cluster",),
    },
    "Training corpus": {"stored_on": ("Data lake",), "loaded_on": ("Training cluster",)},
    "Chat system prompt": {"stored_on": ("Public inference API",), "loaded_on": ("GPU serving hosts",)},
}
# Endpoints and the models whose answers they return (query threats there are about these).
SERVES: dict[str, tuple[str, ...]] = {"Public inference API": ("Flagship LLM weights", "Fine-tune adapters")}

PULL = {"initiator": "target"}  # the receiving end opens the connection
# name, source, target, extra fields, carried assets; source -> target is the way the payload moves
FLOWS: tuple[tuple[str, str, str, dict[str, Any], tuple[str, ...]], ...] = (
    ("Public requests", "Edge API gateway", "Public inference API", {"protocol": "https", "authenticated": False}, ()),
    ("Inference calls", "Public inference API", "GPU serving hosts", {"protocol": "grpc"}, ("Chat system prompt",)),
    ("Load weights", "Weights bucket", "GPU serving hosts", {"protocol": "s3", **PULL}, ("Flagship LLM weights",)),
    ("Load adapters", "Model registry", "GPU serving hosts", {"protocol": "https", **PULL}, ("Fine-tune adapters",)),
    ("Load eval weights", "Weights bucket", "Eval host", {"protocol": "s3", **PULL}, ("Flagship LLM weights",)),
    ("Write checkpoints", "Training cluster", "DR weights replica", {"protocol": "s3"}, ("Training checkpoints",)),
    ("Publish weights", "Training cluster", "Weights bucket", {"protocol": "s3"}, ("Flagship LLM weights",)),
    (
        "Replicate weights",
        "Weights bucket",
        "DR weights replica",
        {"protocol": "s3", "encrypted": False},
        ("Flagship LLM weights",),
    ),
    ("Read corpus", "Data lake", "Training cluster", {"protocol": "s3", **PULL}, ("Training corpus",)),
    ("Register models", "Training cluster", "Model registry", {"protocol": "https"}, ("Fine-tune adapters",)),
    ("Submit training jobs", "Notebook server", "Training cluster", {"protocol": "https"}, ()),
    ("Run evaluations", "Notebook server", "Eval host", {"protocol": "https"}, ()),
    ("Explore data", "Data lake", "Notebook server", {"protocol": "s3", **PULL}, ("Training corpus",)),
    (
        "Notebook package installs",
        "Public package index",
        "Notebook server",
        {"protocol": "https", "authenticated": False, **PULL},
        (),
    ),
    ("Engineer sessions", "ML engineers", "Engineer workstations", {"protocol": "local"}, ()),
    ("Remote notebooks", "Engineer workstations", "Notebook server", {"protocol": "https"}, ()),
    ("Registry access", "Engineer workstations", "Model registry", {"protocol": "https"}, ("Fine-tune adapters",)),
    ("Push code", "Engineer workstations", "Code repository", {"protocol": "ssh"}, ()),
    ("Single sign-on", "Engineer workstations", "Identity provider", {"protocol": "oidc"}, ()),
    (
        "Contractor evaluation access",
        "Model registry",
        "Contractor",
        {"protocol": "https", **PULL},
        ("Fine-tune adapters",),
    ),
    ("Contractor notebooks", "Contractor", "Notebook server", {"protocol": "https"}, ()),
    ("Vendor support access", "GPU cloud support", "GPU serving hosts", {"protocol": "ssh"}, ()),
    ("Build from source", "Code repository", "CI pipeline", {"protocol": "https", **PULL}, ()),
    (
        "CI package installs",
        "Public package index",
        "CI pipeline",
        {"protocol": "https", "authenticated": False, **PULL},
        (),
    ),
    ("Deploy serving images", "CI pipeline", "GPU serving hosts", {"protocol": "ssh"}, ()),
    ("Fetch deploy secrets", "Secrets store", "CI pipeline", {"protocol": "https", **PULL}, ()),
    ("Training secrets", "Secrets store", "Training cluster", {"protocol": "https", **PULL}, ()),
    ("Serving telemetry", "GPU serving hosts", "Monitoring", {"protocol": "otlp"}, ()),
)

# The seeded insider starts at the employees; the seeded supplier at the public package index,
# whose packages CI and the notebook server install. The contractor and the GPU cloud's support
# engineers are people an outsider can phish; their own misuse is left out of the demo (a team
# models it as a supplier profile entering at them, with its own, rarer rate: one profile holds
# all its entries in every attempt, so lumping suppliers together overstates each).
ATTACKER_ENTRIES = {
    "Malicious insider": ("ML engineers",),
    "Compromised supplier": ("Public package index",),
}
