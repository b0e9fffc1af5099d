"""Sign-in configuration, the signed-in person, organisations, members and invitations."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, status

from app.api.access_schemas import (
    AuthConfig,
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    Me,
    MemberOut,
    OrgCreate,
    OrgOut,
    OrgUpdate,
    RoleUpdate,
    UserOut,
)
from app.api.deps import Admin, CallerDep, Owner, Person, PlatformDep, SessionDep, Viewer
from app.auth.authenticate import Caller
from app.db.models import Invitation, Organisation, Role, User
from app.services import orgs

router = APIRouter(prefix="/api/v1", tags=["sign-in and organisations"])


def _person(caller: Caller) -> uuid.UUID:
    if caller.user_id is None:
        raise HTTPException(403, "Only a signed-in person can do this, not an API key.")
    return caller.user_id


@router.get("/auth/config")
async def auth_config(platform: PlatformDep, request: Request) -> AuthConfig:
    """How a browser signs in here (public: holds no secret)."""
    settings = platform.settings
    if settings.auth_provider == "entra":
        return AuthConfig(
            mode=settings.mode,
            provider="entra",
            authority=f"{settings.auth_authority.rstrip('/')}/{settings.auth_tenant_id}",
            client_id=settings.auth_spa_client_id,
            scopes=[f"api://{settings.auth_client_id}/{settings.auth_scope}"],
            dev_issuer_url=None,
        )
    if settings.auth_provider == "dev":
        return AuthConfig(
            mode=settings.mode,
            provider="dev",
            authority=None,
            client_id=None,
            scopes=[settings.auth_scope],
            dev_issuer_url=str(request.base_url).rstrip("/") + "/dev-issuer",
        )
    return AuthConfig(
        mode=settings.mode,
        provider="none",
        authority=None,
        client_id=None,
        scopes=[],
        dev_issuer_url=None,
    )


@router.get("/me")
async def me(caller: CallerDep, session: SessionDep) -> Me:
    """The signed-in person and their organisations with their role in each."""
    if caller.kind == "api_key":
        raise HTTPException(403, "An API key is not a person: /me is for people.")
    user = await session.get(User, caller.user_id) if caller.user_id else None
    if caller.kind == "local":
        org = await session.get(Organisation, caller.org_id)
        memberships = [(org, Role.OWNER)] if org else []
    else:
        memberships = await orgs.my_organisations(session, _person(caller))
    return Me(
        user=UserOut(id=user.id, display_name=user.display_name, email=user.email)
        if user
        else None,
        organisations=[
            OrgOut(id=o.id, slug=o.slug, name=o.name, role=role) for o, role in memberships
        ],
    )


@router.get("/orgs")
async def list_my_orgs(caller: CallerDep, session: SessionDep) -> list[OrgOut]:
    """The organisations I belong to."""
    return (await me(caller, session)).organisations


@router.post("/orgs", status_code=status.HTTP_201_CREATED)
async def create_org(
    body: OrgCreate, caller: CallerDep, session: SessionDep, platform: PlatformDep
) -> OrgOut:
    """Create an organisation; you become its owner."""
    if platform.settings.mode == "single_tenant":
        raise HTTPException(
            409, "This platform runs in single-tenant mode: it has one organisation."
        )
    user_id = _person(caller)
    try:
        org = await orgs.create_organisation(
            session, user_id=user_id, name=body.name, slug=body.slug
        )
    except orgs.Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    await session.commit()
    return OrgOut(id=org.id, slug=org.slug, name=org.name, role=Role.OWNER)


@router.get("/org")
async def get_org(actor: Viewer, session: SessionDep) -> OrgOut:
    """The organisation of the request."""
    org = await session.get(Organisation, actor.org_id)
    if org is None:
        raise HTTPException(404, f"No organisation {actor.org_id}.")
    return OrgOut(id=org.id, slug=org.slug, name=org.name, role=actor.role or Role.VIEWER)


@router.patch("/org")
async def rename_org(body: OrgUpdate, actor: Admin, session: SessionDep) -> OrgOut:
    org = await orgs.rename(session, actor.org_id, body.name)
    await session.commit()
    return OrgOut(id=org.id, slug=org.slug, name=org.name, role=actor.role or Role.ADMIN)


@router.delete(
    "/org",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The local organisation of a single-tenant platform."}},
)
async def delete_org(actor: Owner, session: SessionDep, platform: PlatformDep) -> None:
    """Delete the organisation and everything in it: reports, repositories, tokens, keys."""
    if actor.org_id == platform.local_org_id:
        raise HTTPException(409, "The local organisation of a single-tenant platform stays.")
    await orgs.delete_organisation(session, actor.org_id)
    await session.commit()


@router.get("/members")
async def list_members(actor: Person, session: SessionDep) -> list[MemberOut]:
    return [MemberOut(**vars(m)) for m in await orgs.list_members(session, actor.org_id)]


@router.patch("/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def change_role(
    user_id: uuid.UUID, body: RoleUpdate, actor: Admin, session: SessionDep
) -> None:
    """Change a member's role. Only an owner grants or takes away the owner role, and the
    last owner stays one."""
    await _member_change(
        orgs.change_role(session, actor.org_id, _role(actor.role), user_id, body.role)
    )
    await session.commit()


@router.delete(
    "/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The last owner stays."}},
)
async def remove_member(user_id: uuid.UUID, actor: Admin, session: SessionDep) -> None:
    await _member_change(orgs.remove_member(session, actor.org_id, _role(actor.role), user_id))
    await session.commit()


def _role(role: Role | None) -> Role:
    assert role is not None  # Admin lets only people through
    return role


async def _member_change(change: Awaitable[None]) -> None:
    try:
        await change
    except orgs.NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except orgs.Forbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    except orgs.Conflict as exc:
        raise HTTPException(409, str(exc)) from exc


def _invitation(inv: Invitation) -> InvitationOut:
    return InvitationOut(
        id=inv.id,
        email=inv.email,
        role=inv.role,
        created_at=inv.created_at,
        expires_at=inv.expires_at,
        accepted_at=inv.accepted_at,
    )


@router.post("/invitations", status_code=status.HTTP_201_CREATED)
async def invite(
    body: InvitationCreate, actor: Admin, session: SessionDep, platform: PlatformDep
) -> InvitationCreated:
    """Invite someone by e-mail. The token is shown once: send the invitee the accept link."""
    try:
        inv, token = await orgs.invite(
            session,
            org_id=actor.org_id,
            actor_role=_role(actor.role),
            email=body.email,
            role=body.role,
            invited_by=actor.user_id,
            ttl=timedelta(hours=platform.settings.invitation_ttl_h),
        )
    except orgs.Forbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    await session.commit()
    return InvitationCreated(
        **_invitation(inv).model_dump(),
        token=token,
        accept_path=f"/invitations/accept?token={token}",
    )


@router.get("/invitations")
async def list_invitations(actor: Admin, session: SessionDep) -> list[InvitationOut]:
    return [_invitation(i) for i in await orgs.list_invitations(session, actor.org_id)]


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(invitation_id: uuid.UUID, actor: Admin, session: SessionDep) -> None:
    await _member_change(orgs.revoke_invitation(session, actor.org_id, invitation_id))
    await session.commit()


@router.post("/invitation-acceptances")
async def accept_invitation(
    body: InvitationAccept, caller: CallerDep, session: SessionDep
) -> InvitationAccepted:
    """Join the organisation an invitation is for (as the invited address, once)."""
    if caller.kind != "user":
        raise HTTPException(403, "Sign in as the invited person to accept an invitation.")
    try:
        org_id, role = await orgs.accept_invitation(
            session, token=body.token, user_id=_person(caller), email=caller.email
        )
    except orgs.NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    await session.commit()
    return InvitationAccepted(org_id=org_id, role=role)
