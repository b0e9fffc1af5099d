"""The policy pack: ``pulumi preview --policy-pack infra/policy`` enforces the guardrails of
``rules.py`` as mandatory policies."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import PolicyPack

from infra.policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=list(policies()))
