"""Models of the mitigations app: plans with their approvals and comments, risk acceptances, and
each team's outbound webhook. The control catalogue that plans point to lives in threats."""

from mitigations.models.acceptances import AcceptanceStatus, RiskAcceptance
from mitigations.models.plans import Approval, Decision, MitigationPlan, PlanComment, PlanStatus
from mitigations.models.webhooks import TeamWebhook, WebhookDelivery

__all__ = [
    "AcceptanceStatus",
    "Approval",
    "Decision",
    "MitigationPlan",
    "PlanComment",
    "PlanStatus",
    "RiskAcceptance",
    "TeamWebhook",
    "WebhookDelivery",
]
