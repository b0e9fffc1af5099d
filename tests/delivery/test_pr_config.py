"""A PR stack takes dev's configuration on every run and keeps its own secrets key
(scripts/pr_config.py, run by scripts/pr-stack.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scripts.pr_config import main, merge

DEV = """\
secretsprovider: azurekeyvault://logdawg-state-kv.vault.azure.net/keys/pulumi-dev
encryptedkey: ZGV2LWtleQ==
config:
  logdawg-cloud:owner: platform-team
  logdawg-cloud:authClientId: 6e1f4a2b-9c3d-4e5f-8a7b-1c2d3e4f5a6b
"""
PR_OWN = """\
secretsprovider: azurekeyvault://logdawg-state-kv.vault.azure.net/keys/pulumi-pr
encryptedkey: cHIta2V5
config:
  logdawg-cloud:imageTag: 0ld0000
"""


def test_dev_config_with_the_pr_stacks_own_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV)
    (tmp_path / "Pulumi.pr-7.yaml").write_text(PR_OWN)
    merged = yaml.safe_load(merge("pr-7", tmp_path).read_text())
    assert merged["secretsprovider"].endswith("/keys/pulumi-pr")
    assert merged["encryptedkey"] == "cHIta2V5"
    assert merged["config"] == yaml.safe_load(DEV)["config"]  # the old imageTag is gone


def test_a_new_stack_without_a_file_gets_devs_config_and_no_devs_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV)
    merged = yaml.safe_load(merge("pr-8", tmp_path).read_text())
    assert "secretsprovider" not in merged and "encryptedkey" not in merged
    assert merged["config"]["logdawg-cloud:owner"] == "platform-team"


def test_secure_values_of_dev_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV + "  logdawg-cloud:token:\n    secure: abc\n")
    with pytest.raises(ValueError, match="secure values"):
        merge("pr-9", tmp_path)
    assert not (tmp_path / "Pulumi.pr-9.yaml").exists()


def test_only_pr_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prod"]) == 2
    assert "is not a PR stack" in capsys.readouterr().err
