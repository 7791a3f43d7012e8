"""REST API v1 of the mitigations app: plans and their workflow, acceptances, the audit trail."""
