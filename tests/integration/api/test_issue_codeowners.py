"""CODEOWNERS through the repository's provider (here the local provider over a real git
checkout): the culprit file's owners are on the report, and the first owner who is a member
(by e-mail) is the new issue's assignee."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.bootstrap import Platform
from tests.conftest import TenantDb
from tests.eval.cases import _git, build_repository, cases
from tests.integration.api.test_access import as_owner
from worker.main import run_once

pytestmark = pytest.mark.integration

CODEOWNERS = """\
# Everything, unless a later line says otherwise.
*                       @acme/platform
src/main/java/com/shop/ @shop-lead dev@acme.example
*.md                    docs@acme.example
"""


async def _diagnose(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path, codeowners: str | None
) -> dict[str, object]:
    case = next(c for c in cases() if c.name == "java-index")
    repo = build_repository(case, tmp_path)
    if codeowners is not None:
        (repo / ".github").mkdir()
        (repo / ".github/CODEOWNERS").write_text(codeowners)
        now = datetime.now(UTC)
        _git(repo, "add", ".github/CODEOWNERS", when=now)
        _git(repo, "commit", "-q", "-m", "Code owners", when=now)
    registered = await client.post(
        "/api/v1/repositories", json={"provider": "local", "name": "shop", "base_url": str(repo)}
    )
    assert registered.status_code == 201, registered.text
    accepted = await client.post("/api/v1/logs/diagnose", json={"log_data": {"content": case.log}})
    assert accepted.status_code == 202
    assert await run_once(platform, "test-worker")
    report: dict[str, object] = (await client.get(accepted.headers["location"])).json()
    assert report["status"] == "complete", report["error"]
    return report


async def test_owners_of_the_culprit_file_and_the_default_assignee(
    client: httpx.AsyncClient, platform: Platform, tenant_db: TenantDb, tmp_path: Path
) -> None:
    # dev@acme.example is a member; @shop-lead (a handle) maps to nobody.
    async with as_owner(tenant_db):
        member = (
            await tenant_db.conn.execute(
                text("SELECT logdawg_sign_in('t', 'dev', 'Dev', 'dev@acme.example')")
            )
        ).scalar_one()
        await tenant_db.conn.execute(
            text("INSERT INTO memberships (org_id, user_id, role) VALUES (:o, :u, 'member')"),
            {"o": tenant_db.org_a, "u": member},
        )
    report = await _diagnose(client, platform, tmp_path, CODEOWNERS)
    data = report["report_data"]
    assert isinstance(data, dict)
    assert data["culprit_file"] == "src/main/java/com/shop/report/Totals.java"
    assert report["code_owners"] == ["@shop-lead", "dev@acme.example"]
    assert data["code_owners_file"] == ".github/CODEOWNERS"

    issue = (await client.get(f"/api/v1/issues/{report['issue_id']}")).json()
    assert issue["assignee"] == {"id": str(member), "name": "Dev"}
    assert issue["code_owners"] == ["@shop-lead", "dev@acme.example"]
    assigned = [e for e in issue["timeline"] if e["kind"] == "assigned"]
    assert assigned[0]["data"]["source"] == "codeowners" and assigned[0]["actor"] is None


async def test_no_codeowners_file_no_owners_no_assignee(
    client: httpx.AsyncClient, platform: Platform, tmp_path: Path
) -> None:
    report = await _diagnose(client, platform, tmp_path, None)
    assert report["code_owners"] == []
    issue = (await client.get(f"/api/v1/issues/{report['issue_id']}")).json()
    assert issue["assignee"] is None
