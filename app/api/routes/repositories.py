from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import SecretStr

from app.api.deps import Admin, PlatformDep, SessionDep, Viewer
from app.api.schemas import RepositoryCreate, RepositoryOut, TokenUpdate
from app.db.models import Provider, Repository
from app.git.safety import check_base_url
from app.git.types import Refused
from app.services import repositories
from app.services.repository_access import ServicePrincipalFields

router = APIRouter(prefix="/api/v1/repositories", tags=["repositories"])


def _out(repo: Repository) -> RepositoryOut:
    return RepositoryOut(
        id=repo.id,
        provider=repo.provider,
        owner=repo.owner,
        project=repo.project,
        name=repo.name,
        default_branch=repo.default_branch,
        base_url=repo.base_url,
        has_credential=repo.credential_id is not None,
        created_at=repo.created_at,
        auth_kind=repo.auth_kind,
        unreachable_reason=repo.unreachable_reason,
        unreachable_at=repo.unreachable_at,
    )


async def _get(session: SessionDep, repo_id: uuid.UUID) -> Repository:
    repo = await session.get(Repository, repo_id)
    if repo is None:
        raise HTTPException(404, f"No repository {repo_id}.")
    return repo


def _secret_of(body: RepositoryCreate) -> str | None:
    """What is sealed: the pasted token, or the service principal's fields."""
    if body.service_principal is not None:
        sp = body.service_principal

        def clear(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return ServicePrincipalFields(
            tenant_id=str(sp.tenant_id),
            client_id=str(sp.client_id),
            client_secret=clear(sp.client_secret),
            certificate=clear(sp.certificate),
            certificate_password=clear(sp.certificate_password),
        ).sealed()
    return body.token.get_secret_value() if body.token else None


@router.post("", status_code=status.HTTP_201_CREATED)
async def register_repository(
    body: RepositoryCreate,
    session: SessionDep,
    platform: PlatformDep,
    actor: Admin,
    response: Response,
) -> RepositoryOut:
    """Register a repository, with its read-only token sealed at rest."""
    if body.base_url and body.provider is not Provider.LOCAL:
        try:
            await check_base_url(
                body.base_url, multi_tenant=platform.settings.mode == "multi_tenant"
            )
        except Refused as exc:
            raise HTTPException(422, f"base_url: {exc}") from exc
    if body.auth == "azure_identity" and not platform.access.identity_allowed(
        actor.org_id, body.owner
    ):
        raise HTTPException(
            403,
            f"The platform's identity is not approved for the Azure DevOps organisation "
            f"{body.owner!r} in this organisation: the operator approves it "
            "(LOGDAWG_AZURE_DEVOPS_IDENTITY_ORGS), or use your own service principal.",
        )
    try:
        repo = await repositories.register(
            session,
            platform.kek,
            org_id=actor.org_id,
            provider=body.provider,
            owner=body.owner,
            project=body.project,
            name=body.name,
            default_branch=body.default_branch,
            base_url=body.base_url,
            token=_secret_of(body),
            auth_kind=body.auth,
            local_allowed=platform.settings.mode == "single_tenant",
        )
    except repositories.RepositoryExists as exc:
        raise HTTPException(409, str(exc)) from exc
    except repositories.LocalProviderRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    await session.commit()
    await session.refresh(repo)
    response.headers["Location"] = f"/api/v1/repositories/{repo.id}"
    return _out(repo)


@router.get("")
async def list_repositories(session: SessionDep, actor: Viewer) -> list[RepositoryOut]:
    return [_out(r) for r in await repositories.list_repositories(session)]


@router.get("/{repo_id}")
async def get_repository(repo_id: uuid.UUID, session: SessionDep, actor: Viewer) -> RepositoryOut:
    return _out(await _get(session, repo_id))


@router.put("/{repo_id}/token", status_code=status.HTTP_204_NO_CONTENT)
async def replace_token(
    repo_id: uuid.UUID, body: TokenUpdate, session: SessionDep, platform: PlatformDep, actor: Admin
) -> None:
    """Replace (rotate) the repository's token; the old one is destroyed."""
    repo = await _get(session, repo_id)
    if repo.auth_kind != "token":
        raise HTTPException(
            409,
            f"This repository is read with {repo.auth_kind.replace('_', ' ')}, not a pasted "
            "token: register it again to change how it is read.",
        )
    await repositories.replace_token(session, platform.kek, repo, body.token.get_secret_value())
    await session.commit()


@router.delete("/{repo_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_repository(repo_id: uuid.UUID, session: SessionDep, actor: Admin) -> None:
    """Forget the repository and destroy its token. Its reports stay."""
    await repositories.delete(session, await _get(session, repo_id))
    await session.commit()
