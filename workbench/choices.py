"""Enumerations of the modelling domain (DESIGN.md §3).

The asset-kind and property vocabularies here are also the vocabulary of the threat library's
rules, so they change only together with the library.
"""

from django.db import models


def choice_or_blank(value: str, choices: type[models.TextChoices]) -> str:
    """``value`` when it is one of ``choices``, else "": a list filter given an unknown value shows all."""
    return value if value in choices.values else ""


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    RISK_OWNER = "risk_owner", "Risk owner"
    ADMIN = "admin", "Admin"


# What each role may do is ``workbench.permissions.POLICY``, the one place that decides it.


class AssetKind(models.TextChoices):
    MODEL_WEIGHTS = "model_weights", "Model weights"
    CHECKPOINT = "checkpoint", "Checkpoint"
    ADAPTER = "adapter", "Adapter (LoRA, fine-tune delta)"
    TRAINING_DATA = "training_data", "Training data"
    EVAL_DATA = "eval_data", "Evaluation data"
    EMBEDDINGS = "embeddings", "Embeddings"
    SYSTEM_PROMPT = "system_prompt", "System prompt / agent config"
    INFERENCE_ENDPOINT = "inference_endpoint", "Inference endpoint"
    API_GATEWAY = "api_gateway", "API gateway"
    AI_AGENT = "ai_agent", "AI agent"
    AGENT_TOOL = "agent_tool", "AI agent tool / MCP server"
    VECTOR_STORE = "vector_store", "Vector store / RAG index"
    MODEL_REGISTRY = "model_registry", "Model registry"
    OBJECT_STORE = "object_store", "Object store"
    CONTAINER_REGISTRY = "container_registry", "Container registry"
    MODEL_HUB = "model_hub", "External model hub"
    CODE_REPOSITORY = "code_repository", "Code repository"
    TRAINING_CLUSTER = "training_cluster", "Training cluster"
    GPU_HOST = "gpu_host", "GPU host"
    MLOPS_SERVICE = "mlops_service", "MLOps service (orchestrator, tracking)"
    NOTEBOOK = "notebook", "Notebook server"
    CI_PIPELINE = "ci_pipeline", "CI pipeline"
    PACKAGE_SOURCE = "package_source", "Package source"
    SECRETS_STORE = "secrets_store", "Secrets store / KMS"
    IDENTITY_PROVIDER = "identity_provider", "Identity provider"
    MONITORING = "monitoring", "Monitoring / logging"
    WORKSTATION = "workstation", "Workstation"
    EDGE_DEVICE = "edge_device", "Edge / on-prem device"
    HUMAN_ROLE = "human_role", "Person or role"
    EXTERNAL_SERVICE = "external_service", "External service"


# Kinds whose content is the model itself: the default crown jewels (DESIGN.md §5).
WEIGHT_KINDS = frozenset({AssetKind.MODEL_WEIGHTS, AssetKind.CHECKPOINT, AssetKind.ADAPTER})
# Kinds that are data rather than places. They live in copies on other assets (``AssetCopy``:
# stored on stores or hosts, loaded in memory on hosts), never ``hosted_on`` one.
DATA_KINDS = frozenset(
    {
        AssetKind.MODEL_WEIGHTS,
        AssetKind.CHECKPOINT,
        AssetKind.ADAPTER,
        AssetKind.TRAINING_DATA,
        AssetKind.EVAL_DATA,
        AssetKind.EMBEDDINGS,
        AssetKind.SYSTEM_PROMPT,
    }
)


# Kinds that answer queries about the models they serve (``Asset.serves``); an abuser burns their
# compute, so they alone carry a compute cost per day.
SERVING_KINDS = frozenset({AssetKind.INFERENCE_ENDPOINT, AssetKind.API_GATEWAY, AssetKind.AI_AGENT})


class Authentication(models.TextChoices):
    NONE = "none", "None (anonymous)"
    PASSWORD = "password", "Password"
    API_KEY = "api_key", "API key (static, per client)"
    TOKEN = "token", "Bearer token (often long-lived or shared)"
    SSO = "sso", "Single sign-on"
    MTLS = "mtls", "Mutual TLS / workload identity"
    IAM = "iam", "Cloud IAM (signed requests, roles)"


class OutputGranularity(models.TextChoices):
    """What one answer of a query interface reveals, from least to most."""

    NONE = "", "Not an interface"
    TEXT = "text", "Generated text only (no logprobs)"
    LABEL = "label", "Top-1 label / class"
    SCORE = "score", "Scores / top-k probabilities"
    LOGITS = "logits", "Logprobs / logits"
    EMBEDDINGS = "embeddings", "Embedding vectors"


class ModelClass(models.TextChoices):
    NONE = "", "Not a model"
    CLASSIFIER = "classifier", "Classifier"
    REGRESSOR = "regressor", "Regressor"
    LLM = "llm", "Large language model"
    EMBEDDING = "embedding", "Embedding model"
    OTHER = "other", "Other model"


class Personnel(models.TextChoices):
    NONE = "", "Not a person"
    EMPLOYEE = "employee", "Employee"
    CONTRACTOR = "contractor", "Contractor"
    LICENSEE = "licensee", "External licensee / partner"
    VENDOR = "vendor", "Vendor staff"


class Capability(models.TextChoices):
    """RAND operational capacity categories (RR-A2849-1)."""

    OC1 = "OC1", "OC1 amateur"
    OC2 = "OC2", "OC2 professional opportunistic"
    OC3 = "OC3", "OC3 cybercrime syndicate or insider"
    OC4 = "OC4", "OC4 leading cyber-capable institution"
    OC5 = "OC5", "OC5 top-priority state operation"


class ActorType(models.TextChoices):
    """Who an attacker profile is (DESIGN.md §4.2); threats declare which types can realise them."""

    EXTERNAL = "external", "External"
    INSIDER = "insider", "Insider (staff with legitimate access)"
    SUPPLIER = "supplier", "Supplier (vendor, contractor, licensee, third-party source)"
    PHYSICAL = "physical", "Physical (can touch facilities or hardware)"


class Initiator(models.TextChoices):
    """Which end of a data flow opens the connection (the flow itself points the way its payload moves)."""

    SOURCE = "source", "Source opens the connection (push)"
    TARGET = "target", "Target opens the connection (pull)"


class CopyMode(models.TextChoices):
    """How an asset holds a copy of a data asset."""

    STORED = "stored", "Stored (persistent copy)"
    LOADED = "loaded", "Loaded in memory while in use"


class JobKind(models.TextChoices):
    RECOMPUTE = "recompute", "Risk recompute"
    RENDER = "render", "Diagram render"
    SYNC = "sync", "Inventory sync"
    IMPORT = "import", "Import"
    AUDIT_VERIFY = "audit_verify", "Audit chain verification"
    WEBHOOK = "webhook", "Webhook delivery"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
