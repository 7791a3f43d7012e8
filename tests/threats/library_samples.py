"""A small v2 library (one entry per role and loss form) that the loader tests edit one line at a time."""

from __future__ import annotations

CONTROLS = """
version: "2026.12.1"
controls:
  - code: M-RATE-QUOTA
    name: Per-account rate limits and query quotas
    description: Cap queries per account.
    type: preventive
    cost: {one_off: [5000, 20000], yearly: [2000, 10000]}
    atlas_mitigations: [AML.M0004]
    rand_sl: 2
    asset_kinds: [inference_endpoint, api_gateway]
  - code: M-TLS
    name: Encrypt flows
    type: preventive
    cost: {one_off: [0, 1000], yearly: [0, 0]}
    rand_sl: 1
    capability_decay: 1.0
    pricing: per_element
    flows: true
  - code: M-KMS
    name: File encryption
    type: preventive
    cost: {one_off: [0, 1000], yearly: [0, 100]}
    rand_sl: 3
    capability_decay: 0.5
    asset_kinds: [model_weights]
"""

THREATS = """
version: "2026.12.1"
threats:
  - code: T-EXTRACT-API
    name: Model extraction through the prediction API
    description: Query the API to train a copy.
    stride: [I]
    atlas: [AML.T0040, AML.T0024.002]
    owasp: ["ML05:2023", "LLM10:2025"]
    rand:
      - {category: ai_specific, vector: model_extraction}
    role: theft
    actors: [external, supplier]
    position: query
    target: asset
    asset_kinds: [inference_endpoint, api_gateway]
    rule:
      all:
        - {attr: reachable_from_internet, eq: true}
        - {attr: output_granularity, in: [score, logits]}
    loss: {form: theft, yields: served, value: replication}
    query_goal: clone
    base_probability: {OC1: 0.2, OC2: 0.35, OC3: 0.5, OC4: 0.6, OC5: 0.7}
    controls:
      - control: M-RATE-QUOTA
        effectiveness: 0.5
        evidence: {source: "Tramer et al. 2016, USENIX Security", figure: "..."}
      - control: M-KMS
        on: jewel
        effectiveness: {OC1: 0.9, OC2: 0.8, OC3: 0.7, OC4: 0.6, OC5: 0.1}
  - code: T-WEIGHTS-CLEARTEXT
    name: Weights sniffed on an unencrypted flow
    stride: [I, T]
    rand:
      - {category: nontrivial_access, vector: eavesdropping}
    role: theft
    actors: [external, physical]
    position: intercept
    target: flow
    rule: {all: [{attr: carries_weights, eq: true}, {attr: encrypted, eq: false}]}
    loss: {form: theft, yields: carried, value: fraction, fraction: 0.25, jewel_kinds: [model_weights]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.2, OC4: 0.5, OC5: 0.9}
    controls: [{control: M-TLS, effectiveness: 0.9}]
  - code: T-OPEN-DOOR
    name: Anonymous store
    stride: [I]
    rand: []
    role: access
    actors: [external]
    position: [network, exposed]
    target: asset
    asset_kinds: [object_store]
    rule: {attr: authentication, eq: none}
    base_probability: {OC1: 0.9, OC2: 0.9, OC3: 0.9, OC4: 0.9, OC5: 0.9}
  - code: T-RECON
    name: Recon
    stride: [I]
    rand: []
    role: enabler
    actors: [external]
    position: none
    target: asset
    asset_kinds: [inference_endpoint]
    rule: {attr: exposed, eq: true}
    base_probability: {OC1: 1, OC2: 1, OC3: 1, OC4: 1, OC5: 1}
    boosts: [T-EXTRACT-API]
    boost: 0.1
  - code: T-WALLET
    name: Cost harvesting
    stride: [D]
    rand: []
    role: theft
    actors: [external]
    position: query
    target: asset
    asset_kinds: [inference_endpoint]
    rule: {attr: model_class, ne: ""}
    loss: {form: compute}
    base_probability: {OC1: 0.5, OC2: 0.5, OC3: 0.5, OC4: 0.5, OC5: 0.5}
"""


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)
