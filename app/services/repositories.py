"""Registering repositories and keeping their tokens sealed. The caller owns the transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Credential, Provider, Repository
from app.secrets.base import KeyWrapper
from app.secrets.envelope import Sealed, seal, unseal


class RepositoryExists(Exception):
    pass


class LocalProviderRefused(Exception):
    pass


async def _store_token(
    session: AsyncSession,
    kek: KeyWrapper,
    *,
    org_id: uuid.UUID,
    provider: Provider,
    name: str,
    token: str,
) -> Credential:
    credential_id = uuid.uuid4()
    sealed = await seal(kek, token, org_id=org_id, credential_id=credential_id)
    credential = Credential(
        id=credential_id,
        org_id=org_id,
        name=name,
        provider=provider,
        ciphertext=sealed.ciphertext,
        nonce=sealed.nonce,
        wrapped_data_key=sealed.wrapped_data_key,
        key_version=sealed.key_version,
    )
    session.add(credential)
    return credential


async def register(
    session: AsyncSession,
    kek: KeyWrapper,
    *,
    org_id: uuid.UUID,
    provider: Provider,
    owner: str,
    project: str | None,
    name: str,
    default_branch: str,
    base_url: str | None,
    token: str | None,
    local_allowed: bool,
    auth_kind: str = "token",
) -> Repository:
    if provider is Provider.LOCAL and not local_allowed:
        raise LocalProviderRefused(
            "local repositories can only be registered when the platform runs single-tenant"
        )
    repo_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            credential = None
            if token is not None:
                credential = await _store_token(
                    session, kek, org_id=org_id, provider=provider,
                    name=f"repository:{repo_id}", token=token,
                )  # fmt: skip
                await session.flush()
            repository = Repository(
                id=repo_id,
                org_id=org_id,
                provider=provider,
                owner=owner,
                project=project,
                name=name,
                default_branch=default_branch,
                base_url=base_url,
                credential_id=credential.id if credential else None,
                auth_kind=auth_kind,
            )
            session.add(repository)
            await session.flush()
    except IntegrityError as exc:
        raise RepositoryExists(
            f"{provider.value} repository {'/'.join(p for p in (owner, project, name) if p)} "
            "is already registered"
        ) from exc
    return repository


async def list_repositories(session: AsyncSession) -> list[Repository]:
    rows = await session.scalars(select(Repository).order_by(Repository.created_at, Repository.id))
    return list(rows.all())


async def replace_token(
    session: AsyncSession, kek: KeyWrapper, repository: Repository, token: str
) -> None:
    old = repository.credential_id
    credential = await _store_token(
        session, kek, org_id=repository.org_id, provider=repository.provider,
        name=f"repository:{repository.id}:{uuid.uuid4().hex[:8]}", token=token,
    )  # fmt: skip
    await session.flush()
    repository.credential_id = credential.id
    await session.flush()
    if old is not None:
        stale = await session.get(Credential, old)
        if stale is not None:
            await session.delete(stale)


async def delete(session: AsyncSession, repository: Repository) -> None:
    credential_id = repository.credential_id
    await session.delete(repository)
    await session.flush()
    if credential_id is not None:
        credential = await session.get(Credential, credential_id)
        if credential is not None:
            await session.delete(credential)


async def token_for(session: AsyncSession, kek: KeyWrapper, repository: Repository) -> str | None:
    """The repository's token in clear, for the worker's provider client only."""
    if repository.credential_id is None:
        return None
    credential = await session.get(Credential, repository.credential_id)
    if credential is None:
        return None
    sealed = Sealed(
        ciphertext=credential.ciphertext,
        nonce=credential.nonce,
        wrapped_data_key=credential.wrapped_data_key,
        key_version=credential.key_version,
    )
    return await unseal(kek, sealed, org_id=credential.org_id, credential_id=credential.id)
