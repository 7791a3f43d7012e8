"""Models of the mitigations app: the control library, plans with their approvals and comments,
risk acceptances, and each team's outbound webhook."""

from mitigations.models.acceptances import AcceptanceStatus, RiskAcceptance
from mitigations.models.library import Control, ControlType, ThreatControl
from mitigations.models.plans import Approval, Decision, MitigationPlan, PlanComment, PlanStatus
from mitigations.models.webhooks import TeamWebhook, WebhookDelivery

__all__ = [
    "AcceptanceStatus",
    "Approval",
    "Control",
    "ControlType",
    "Decision",
    "MitigationPlan",
    "PlanComment",
    "PlanStatus",
    "RiskAcceptance",
    "TeamWebhook",
    "ThreatControl",
    "WebhookDelivery",
]
