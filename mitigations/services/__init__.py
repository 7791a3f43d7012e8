"""Write services of the mitigations app: plans, workflow transitions, acceptances, notifications."""
