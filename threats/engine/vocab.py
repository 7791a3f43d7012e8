"""The rule vocabulary as plain data, copied from ``workbench.choices``.

The engine is a functional core (DESIGN.md §2): it must run without Django, from a CLI or a
benchmark. So the vocabularies the library's rules speak are repeated here as frozensets, and
``tests/threats/test_vocab_sync.py`` fails the build the day they drift from the model choices.
"""

from __future__ import annotations

from types import MappingProxyType

ASSET_KINDS: frozenset[str] = frozenset(
    {
        "model_weights",
        "checkpoint",
        "adapter",
        "training_data",
        "eval_data",
        "embeddings",
        "system_prompt",
        "inference_endpoint",
        "api_gateway",
        "ai_agent",
        "agent_tool",
        "vector_store",
        "model_registry",
        "object_store",
        "container_registry",
        "model_hub",
        "code_repository",
        "training_cluster",
        "gpu_host",
        "mlops_service",
        "notebook",
        "ci_pipeline",
        "package_source",
        "secrets_store",
        "identity_provider",
        "monitoring",
        "workstation",
        "edge_device",
        "human_role",
        "external_service",
    }
)

# Kinds whose content is the model itself: the default crown jewels (DESIGN.md §5).
WEIGHT_KINDS: frozenset[str] = frozenset({"model_weights", "checkpoint", "adapter"})
# Kinds that are data rather than places; they live on a host asset (``hosted_on``).
DATA_KINDS: frozenset[str] = frozenset(
    {"model_weights", "checkpoint", "adapter", "training_data", "eval_data", "embeddings", "system_prompt"}
)
HUMAN_ROLE = "human_role"

# "token": a bearer token, often long-lived or shared; "iam": cloud IAM (signed requests with role
# or workload credentials). Federated logins (OIDC, OAuth, SAML) count as "sso", client
# certificates as "mtls" (importers map those names).
AUTHENTICATIONS: frozenset[str] = frozenset({"none", "password", "api_key", "token", "sso", "mtls", "iam"})
# What one answer reveals, from least to most: generated text only (logprobs and logit bias off),
# a top-1 label, scores for some classes, log-probabilities or raw logits; embedding vectors are
# their own kind of answer. "" means the asset is not a query interface.
OUTPUT_GRANULARITIES: frozenset[str] = frozenset({"", "text", "label", "score", "logits", "embeddings"})
MODEL_CLASSES: frozenset[str] = frozenset({"", "classifier", "regressor", "llm", "embedding", "other"})
PERSONNEL: frozenset[str] = frozenset({"", "employee", "contractor", "licensee", "vendor"})
# The personnel types a person can actually have; "" means "not a person".
PERSONNEL_TYPES: frozenset[str] = PERSONNEL - {""}

OC_LEVELS: tuple[str, ...] = ("OC1", "OC2", "OC3", "OC4", "OC5")
# Who an attacker profile is (DESIGN.md §4.2): threats declare which of these can realise them.
ACTOR_TYPES: frozenset[str] = frozenset({"external", "insider", "supplier", "physical"})
# Which side of a flow opens the connection.
INITIATORS: frozenset[str] = frozenset({"source", "target"})
STRIDE_LETTERS: frozenset[str] = frozenset("STRIDE")
CONTROL_TYPES: frozenset[str] = frozenset({"preventive", "detective", "corrective"})
TARGET_TYPES: frozenset[str] = frozenset({"asset", "flow"})

# RAND RR-A2849-1, Table 5.1: attack categories and their vectors.
RAND_VECTORS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "running_unauthorized_code": frozenset(
            {
                "patched_vulnerabilities",
                "unpatched_reported_vulnerabilities",
                "individual_zero_days",
                "zero_days_at_scale",
            }
        ),
        "compromising_credentials": frozenset(
            {"social_engineering", "password_cracking", "exposed_credentials", "privilege_escalation"}
        ),
        "undermining_access_control": frozenset(
            {
                "crypto_auth_vulnerabilities",
                "intentional_backdoors",
                "access_control_code_vulnerabilities",
                "secret_material_access",
            }
        ),
        "bypassing_primary_security": frozenset(
            {"misconfiguration", "less_secure_copies", "alternative_access_schemes"}
        ),
        "nontrivial_access": frozenset({"air_gap_access", "side_channels", "eavesdropping"}),
        "physical_access": frozenset(
            {
                "direct_physical_access",
                "portable_devices",
                "remote_site_devices",
                "physical_access_evasion",
                "hardware_penetration",
                "armed_break_in",
                "military_takeover",
            }
        ),
        "supply_chain": frozenset({"services_and_equipment", "code_and_infrastructure", "vendors_with_access"}),
        "human_intelligence": frozenset(
            {
                "bribes_and_cooperation",
                "extortion",
                "candidate_placement",
                "organizational_leverage",
                "approved_access_insider",
            }
        ),
        "ai_specific": frozenset(
            {
                "ml_stack_vulnerabilities",
                "ml_supply_chain_compromise",
                "prompt_triggered_code_execution",
                "model_extraction",
                "model_distillation",
            }
        ),
    }
)
