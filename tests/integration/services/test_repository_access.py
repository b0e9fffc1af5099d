"""The worker's diagnosis reading a repository through the GitHub App: the code is read with
an installation token; once the app is uninstalled the report says so, the job is not retried
(a limitation, not an error), and the repository is marked unreachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.db.models import AuthKind, GitHubInstallation, Provider, Repository
from app.db.session import tenant_session
from app.git.tokens import GitHubApp
from app.secrets.local import LocalKeyFile
from app.services.code_context import EngineRunner
from app.services.diagnoses import JobInput
from app.services.repository_access import RepositoryAccess
from app.settings import Settings
from tests.conftest import TenantDb
from tests.fakes.git_servers import FakeServer, GitHubHandler, serve
from tests.fakes.sample_repo import build_sample_repo

pytestmark = pytest.mark.integration

APP_ID, INSTALLATION = 99, 5150
LOG = {
    "content": "Traceback (most recent call last):\n"
    '  File "/srv/shop/src/app/cart.py", line 12, in total\n'
    "TypeError: unsupported operand type(s) for +: 'int' and 'str'"
}


@pytest.fixture
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def github(tmp_path: Path, key: rsa.RSAPrivateKey) -> Iterator[FakeServer]:
    with serve(GitHubHandler, build_sample_repo(tmp_path), token="no-pat") as fake:
        fake.register_app(APP_ID, key)
        fake.installations[INSTALLATION] = {
            "account": {"login": "acme", "type": "Organization"},
            "repositories": ["shop"],
        }
        yield fake


def runner(
    db: TenantDb, tmp_path: Path, github: FakeServer, key: rsa.RSAPrivateKey
) -> EngineRunner:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    app = GitHubApp(app_id=APP_ID, private_key_pem=pem, api_url=github.url)
    return EngineRunner(
        db.sessions,
        Settings(key_file=tmp_path / "kek"),
        LocalKeyFile(tmp_path / "kek"),
        access=RepositoryAccess(github_app=app),
    )


async def _repository(db: TenantDb) -> uuid.UUID:
    async with tenant_session(db.sessions, db.org_a) as session:
        installation = GitHubInstallation(
            org_id=db.org_a, installation_id=INSTALLATION, account_login="acme",
            account_type="Organization", repositories=["acme/shop"],
        )  # fmt: skip
        session.add(installation)
        await session.flush()
        repository = Repository(
            org_id=db.org_a, provider=Provider.GITHUB, owner="acme", name="shop",
            auth_kind=AuthKind.GITHUB_APP.value, github_installation_id=installation.id,
        )  # fmt: skip
        session.add(repository)
        await session.commit()
        return repository.id


async def test_the_worker_reads_through_the_app_and_marks_an_uninstalled_one(
    tenant_db: TenantDb, tmp_path: Path, github: FakeServer, key: rsa.RSAPrivateKey
) -> None:
    repo_id = await _repository(tenant_db)
    job = JobInput(org_id=tenant_db.org_a, report_id=uuid.uuid4(), repo_id=repo_id, log_data=LOG)

    report = await runner(tenant_db, tmp_path, github, key)(job)
    text = report.model_dump_json()
    assert "could not be read" not in text
    assert any(r.path.startswith("/repos/acme/shop/") and r.status == 200 for r in github.requests)
    assert github.mint_bodies == [
        {"permissions": {"contents": "read", "metadata": "read"}, "repositories": ["shop"]}
    ]

    del github.installations[INSTALLATION]  # uninstalled on GitHub
    report = await runner(tenant_db, tmp_path, github, key)(job)  # a fresh worker process
    assert "was uninstalled" in report.model_dump_json()
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        repository = await session.get(Repository, repo_id)
        assert repository is not None
        assert repository.unreachable_reason is not None
        assert "uninstalled" in repository.unreachable_reason
        assert repository.unreachable_at is not None
