"""The pipeline's files keep the promises the README makes about them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def test_pr_stacks_can_take_devs_configuration() -> None:
    """dev's config holds no secure values (encrypted with dev's key, which PR stacks cannot
    use); its secrets provider lines, once the one-time setup adds them, stay dev's."""
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert not [k for k, v in config.items() if isinstance(v, dict) and "secure" in v]


def test_the_policy_pack_runs_in_its_own_pinned_virtualenv() -> None:
    project = _load(ROOT / "infra/policy/PulumiPolicy.yaml")
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    for line in (ROOT / "infra/policy/requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert locked[name] == version, (name, version, locked[name])


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflows_pin_actions_by_sha_and_grant_least_privilege(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}, "default token permissions must be none"
    for name, job in workflow["jobs"].items():
        permissions = job["permissions"]
        assert permissions.get("contents") == "read", name
        assert set(permissions.values()) <= {"read", "write"}
        writes = {k for k, v in permissions.items() if v == "write"}
        assert writes <= {"id-token", "pull-requests"}, (name, writes)
        if "id-token" in writes:
            assert job.get("environment"), f"{name}: cloud credentials only through an environment"
    uses = re.findall(r"uses:\s*(\S+)(.*)", path.read_text())
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.search(r"# v\d+\.\d+\.\d+", comment), f"{action}: name the release it pins"


def test_each_environment_signs_in_with_its_own_identity_and_state() -> None:
    jobs = _load(ROOT / ".github/workflows/pipeline.yml")["jobs"]
    expected = {"preview": "preview", "pr-stack": "pr", "deploy-dev": "dev", "deploy-prod": "prod"}
    for job, environment in expected.items():
        assert jobs[job]["environment"] == environment
        assert jobs[job]["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    assert jobs["deploy-dev"]["env"]["PULUMI_BACKEND_URL"] == "azblob://state-dev"
    assert jobs["deploy-prod"]["env"]["PULUMI_BACKEND_URL"] == "azblob://state-prod"
    assert jobs["pr-stack"]["env"]["PULUMI_BACKEND_URL"] == "azblob://state-pr"
    fork_guard = "github.event.pull_request.head.repo.full_name == github.repository"
    for job in ("preview", "pr-stack"):
        assert fork_guard in jobs[job]["if"]
    prod_steps = jobs["deploy-prod"]["steps"]
    assert any(s.get("env", {}).get("PROMOTE_FROM") for s in prod_steps), (
        "prod promotes, never builds"
    )
    downloads = [s["with"]["name"] for s in prod_steps if "download-artifact" in s.get("uses", "")]
    assert downloads == ["spa-${{ env.SHA }}"], "prod gets the SPA build, never the image archive"


def test_the_spa_is_built_once_and_each_deploy_checks_it_got_that_build() -> None:
    jobs = _load(ROOT / ".github/workflows/pipeline.yml")["jobs"]
    builds = [
        name for name, job in jobs.items()
        for step in job["steps"] if "build-spa.sh" in step.get("run", "")
    ]  # fmt: skip
    assert builds == ["spa"]
    for name in ("pr-stack", "deploy-dev", "deploy-prod"):
        assert "spa" in jobs[name]["needs"], name
        (deploy,) = [s for s in jobs[name]["steps"] if "SPA_TAR" in s.get("env", {})]
        assert deploy["env"]["SPA_DIGEST"] == "${{ needs.spa.outputs.digest }}", name
        assert not any("npm" in s.get("run", "") for s in jobs[name]["steps"]), name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_with_pulumi_state_can_decrypt_it_with_the_oidc_session(path: Path) -> None:
    """State and secrets live in Azure (azblob://, azurekeyvault://) and CI has no client
    secret: the Key Vault secrets provider must use the az CLI session azure/login made."""
    for name, job in _load(path)["jobs"].items():
        env = job.get("env", {})
        if str(env.get("PULUMI_BACKEND_URL", "")).startswith("azblob://") or any(
            "pulumi/actions" in s.get("uses", "") for s in job["steps"]
        ):
            assert env.get("AZURE_KEYVAULT_AUTH_VIA_CLI") == "true", name
            assert any("azure/login" in s.get("uses", "") for s in job["steps"]), name


def test_previews_show_the_release_the_pull_request_would_become() -> None:
    """Each preview sets the stack's imageTag (in the runner only) to the PR's head commit,
    as pulumi/actions reads ``config-map`` (YAML: key -> {value, secret}); without it the
    program's default tag would show the database job moving to an image never built."""
    steps = _load(ROOT / ".github/workflows/pipeline.yml")["jobs"]["preview"]["steps"]
    previews = [s for s in steps if s.get("with", {}).get("command") == "preview"]
    assert sorted(s["with"]["stack-name"] for s in previews) == ["dev", "prod"]
    for step in previews:
        config = yaml.safe_load(step["with"]["config-map"])
        assert config == {
            "imageTag": {"value": "${{ github.event.pull_request.head.sha }}", "secret": False}
        }
