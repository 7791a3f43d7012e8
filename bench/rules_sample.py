"""The built-in sample library ``bench/rules.py`` evaluates when the repository's library files
are absent: a few threats of each role over the kinds the generated systems use, no controls."""

from __future__ import annotations

_P = "{OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.5, OC5: 0.7}"
SAMPLE_THREATS = f"""
version: "sample"
threats:
  - code: T-EXTRACT
    name: API extraction
    stride: [I]
    rand: [{{category: ai_specific, vector: model_extraction}}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [inference_endpoint, api_gateway]
    rule:
      all:
        - {{attr: reachable_from_internet, eq: true}}
        - not: {{all: [{{attr: authenticated, eq: true}}, {{attr: rate_limited, eq: true}}]}}
    base_probability: {_P}
  - code: T-LOGITS
    name: Logit leakage
    stride: [I]
    rand: [{{category: ai_specific, vector: model_distillation}}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [inference_endpoint]
    rule: {{attr: output_granularity, in: [score, logits]}}
    base_probability: {_P}
  - code: T-STORE
    name: Weight store exposed
    stride: [I]
    rand: [{{category: bypassing_primary_security, vector: misconfiguration}}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [object_store, model_registry, gpu_host]
    rule: {{all: [{{attr: hosts_weights, eq: true}}, {{attr: reachable_from_internet, eq: true}}]}}
    base_probability: {_P}
  - code: T-INSIDER
    name: Insider copy
    stride: [I]
    rand: [{{category: human_intelligence, vector: approved_access_insider}}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [model_weights, checkpoint, adapter]
    rule: {{attr: reachable_from_personnel, intersects: [contractor, vendor, licensee]}}
    base_probability: {_P}
  - code: T-NOTEBOOK
    name: Notebook pivot
    stride: [E]
    rand: [{{category: running_unauthorized_code, vector: patched_vulnerabilities}}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [notebook, workstation]
    rule: {{all: [{{attr: outbound_kinds, intersects: [gpu_host, model_registry]}}, {{attr: mfa, eq: false}}]}}
    base_probability: {_P}
  - code: T-CI
    name: Pipeline compromise
    stride: [T]
    rand: [{{category: supply_chain, vector: code_and_infrastructure}}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [ci_pipeline]
    rule: {{any: [{{attr: unauthenticated_inbound, eq: true}}, {{attr: exports_weights, eq: true}}]}}
    base_probability: {_P}
  - code: T-SNIFF
    name: Cleartext weights
    stride: [I]
    rand: [{{category: nontrivial_access, vector: eavesdropping}}]
    role: access
    actors: [external]
    position: network
    target: flow
    rule: {{all: [{{attr: carries_weights, eq: true}}, {{attr: encrypted, eq: false}}]}}
    base_probability: {_P}
  - code: T-EGRESS
    name: Egress of weights
    stride: [I]
    rand: [{{category: bypassing_primary_security, vector: less_secure_copies}}]
    role: access
    actors: [external]
    position: network
    target: flow
    rule:
      all:
        - {{attr: carries_kinds, intersects: [model_weights, checkpoint, adapter]}}
        - any: [{{attr: leaves_organisation, eq: true}}, {{attr: crosses_into_lower_trust, eq: true}}]
    base_probability: {_P}
  - code: T-UNAUTH-IN
    name: Unauthenticated ingress
    stride: [S]
    rand: [{{category: undermining_access_control, vector: access_control_code_vulnerabilities}}]
    role: access
    actors: [external]
    position: network
    target: flow
    rule: {{all: [{{attr: authenticated, eq: false}}, {{attr: crosses_into_higher_trust, eq: true}}]}}
    base_probability: {_P}
  - code: T-LEGACY
    name: Legacy protocol
    stride: [T]
    rand: [{{category: running_unauthorized_code, vector: unpatched_reported_vulnerabilities}}]
    role: access
    actors: [external]
    position: network
    target: flow
    rule: {{attr: protocol, in: [ftp, telnet, http, nfs]}}
    base_probability: {_P}
"""
SAMPLE_CONTROLS = 'version: "sample"\ncontrols: []\n'
