"""Organisations, memberships and invitations. Services take a session whose row-level
security already knows the caller; the caller owns the transaction."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Invitation, Membership, Organisation, Role, User
from app.db.session import act_in_org


class Conflict(Exception):
    """The change would break a rule (a taken slug, an organisation without an owner)."""


class NotFound(Exception):
    pass


class Forbidden(Exception):
    pass


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-")
    return slug or "org"


async def my_organisations(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Organisation, Role]]:
    rows = await session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name, Organisation.id)
    )
    return [(org, role) for org, role in rows]


async def create_organisation(
    session: AsyncSession, *, user_id: uuid.UUID, name: str, slug: str | None
) -> Organisation:
    """A new organisation with the caller as its owner. The session acts in it afterwards."""
    org_id = uuid.uuid4()
    await act_in_org(session, org_id)
    candidates = (
        [slug]
        if slug
        else [slugify(name)] + [f"{slugify(name)[:50]}-{secrets.token_hex(3)}" for _ in range(3)]
    )
    for candidate in candidates:
        inserted = await session.scalar(
            insert(Organisation)
            .values(id=org_id, slug=candidate, name=name)
            .on_conflict_do_nothing(index_elements=["slug"])
            .returning(Organisation.id)
        )
        if inserted is not None:
            break
    else:
        raise Conflict(f"the slug {slug or candidates[0]!r} is taken; choose another")
    session.add(Membership(org_id=org_id, user_id=user_id, role=Role.OWNER))
    await session.flush()
    org = await session.get(Organisation, org_id)
    assert org is not None
    return org


async def rename(session: AsyncSession, org_id: uuid.UUID, name: str) -> Organisation:
    org = await session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"No organisation {org_id}.")
    org.name = name
    await session.flush()
    return org


async def delete_organisation(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Everything of the organisation goes with it (reports, repositories, tokens, keys)."""
    await session.execute(delete(Organisation).where(Organisation.id == org_id))


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    display_name: str
    email: str | None
    role: Role
    created_at: datetime


async def list_members(session: AsyncSession, org_id: uuid.UUID) -> list[Member]:
    rows = await session.execute(
        select(User.id, User.display_name, User.email, Membership.role, Membership.created_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.display_name, User.id)
    )
    return [Member(*row) for row in rows]


async def _owners(session: AsyncSession, org_id: uuid.UUID) -> set[uuid.UUID]:
    # Locked, so two owners demoting each other at once cannot leave none.
    rows = await session.scalars(
        select(Membership.user_id)
        .where(Membership.org_id == org_id, Membership.role == Role.OWNER)
        .with_for_update()
    )
    return set(rows)


async def _membership(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    membership = await session.get(Membership, (org_id, user_id), with_for_update=True)
    if membership is None:
        raise NotFound(f"No member {user_id}.")
    return membership


def _may_manage(actor_role: Role, target: Role, new: Role | None = None) -> None:
    if Role.OWNER in (target, new) and actor_role is not Role.OWNER:
        raise Forbidden("Only an owner can grant, change or remove the owner role.")


async def change_role(
    session: AsyncSession, org_id: uuid.UUID, actor_role: Role, user_id: uuid.UUID, role: Role
) -> None:
    owners = await _owners(session, org_id)
    membership = await _membership(session, org_id, user_id)
    _may_manage(actor_role, membership.role, role)
    if membership.role is Role.OWNER and role is not Role.OWNER and owners == {user_id}:
        raise Conflict("The last owner cannot be demoted: make someone else owner first.")
    membership.role = role
    await session.flush()


async def remove_member(
    session: AsyncSession, org_id: uuid.UUID, actor_role: Role, user_id: uuid.UUID
) -> None:
    owners = await _owners(session, org_id)
    membership = await _membership(session, org_id, user_id)
    _may_manage(actor_role, membership.role)
    if owners == {user_id}:
        raise Conflict("The last owner cannot be removed: make someone else owner first.")
    await session.delete(membership)
    await session.flush()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invite(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    actor_role: Role,
    email: str,
    role: Role,
    invited_by: uuid.UUID | None,
    ttl: timedelta,
) -> tuple[Invitation, str]:
    """An invitation and its one-time token (returned once, kept only as a hash)."""
    _may_manage(actor_role, role)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        org_id=org_id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=invited_by,
        expires_at=datetime.now(UTC) + ttl,
    )
    session.add(invitation)
    await session.flush()
    await session.refresh(invitation)
    return invitation, token


async def list_invitations(session: AsyncSession, org_id: uuid.UUID) -> list[Invitation]:
    rows = await session.scalars(
        select(Invitation)
        .where(Invitation.org_id == org_id)
        .order_by(Invitation.created_at.desc(), Invitation.id)
    )
    return list(rows)


async def revoke_invitation(session: AsyncSession, org_id: uuid.UUID, inv_id: uuid.UUID) -> None:
    result = await session.execute(
        delete(Invitation).where(
            Invitation.org_id == org_id, Invitation.id == inv_id, Invitation.accepted_at.is_(None)
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"No open invitation {inv_id}.")


async def accept_invitation(
    session: AsyncSession, *, token: str, user_id: uuid.UUID, email: str | None
) -> tuple[uuid.UUID, Role]:
    row = (
        await session.execute(
            text("SELECT * FROM logdawg_accept_invitation(:hash, :user, :email)"),
            {"hash": token_hash(token), "user": user_id, "email": email},
        )
    ).one_or_none()
    if row is None:
        raise NotFound(
            "No open invitation for you with this token: it may have expired, been used, or "
            "been sent to another address."
        )
    return uuid.UUID(str(row.org_id)), Role(row.role)
