from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db.models import Report
from app.db.session import tenant_session
from tests.conftest import TenantDb

pytestmark = pytest.mark.integration


async def _add_report(db: TenantDb, org_id: uuid.UUID, message: str) -> uuid.UUID:
    async with tenant_session(db.sessions, org_id) as session:
        report = Report(id=uuid.uuid4(), org_id=org_id, log_data={"content": message})
        session.add(report)
        await session.commit()
        return report.id


async def test_unfiltered_select_as_app_role_sees_only_its_organisation(
    tenant_db: TenantDb,
) -> None:
    mine = await _add_report(tenant_db, tenant_db.org_a, "a's error")
    theirs = await _add_report(tenant_db, tenant_db.org_b, "b's error")

    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        role = (await session.execute(text("SELECT current_user"))).scalar_one()
        # No WHERE clause at all: the policy alone decides.
        ids = (await session.execute(text("SELECT id FROM reports"))).scalars().all()
        orgs = (await session.execute(text("SELECT id FROM organisations"))).scalars().all()

    assert role == "logdawg_app"
    assert ids == [mine]
    assert theirs not in ids
    assert orgs == [tenant_db.org_a]


async def test_no_organisation_set_means_no_rows(tenant_db: TenantDb) -> None:
    await _add_report(tenant_db, tenant_db.org_a, "an error")
    await tenant_db.conn.execute(text("SELECT set_config('app.current_org', '', true)"))
    count = (await tenant_db.conn.execute(text("SELECT count(*) FROM reports"))).scalar_one()
    assert count == 0


async def test_writing_into_another_organisation_is_refused(tenant_db: TenantDb) -> None:
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        session.add(Report(id=uuid.uuid4(), org_id=tenant_db.org_b, log_data={"content": "x"}))
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.flush()


async def test_app_role_cannot_touch_another_organisations_report(tenant_db: TenantDb) -> None:
    theirs = await _add_report(tenant_db, tenant_db.org_b, "b's error")
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        updated = await session.execute(
            text("UPDATE reports SET error = 'tampered' WHERE id = :id"), {"id": theirs}
        )
        deleted = await session.execute(text("DELETE FROM reports WHERE id = :id"), {"id": theirs})
        assert getattr(updated, "rowcount", None) == 0
        assert getattr(deleted, "rowcount", None) == 0
