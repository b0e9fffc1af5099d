"""The Service Bus queue: jobs rows as outbox and truth, messages settled after commit."""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.servicebus import ServiceBusMessage
from sqlalchemy import select, text

from app.analysis.report import DiagnosisReport
from app.bootstrap import Platform
from app.db.models import Job, JobStatus, Report, ReportStatus
from app.db.session import tenant_session
from app.main import create_app
from app.observability import JsonFormatter
from app.queue.servicebus import ServiceBusJobQueue
from app.services.diagnoses import JobInput, process_job
from app.services.reports import submit_log
from tests.conftest import TenantDb
from tests.fakes.service_bus import FakeServiceBus

pytestmark = pytest.mark.integration

LOG = {"content": "Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in f\n"
                  "    g()\nKeyError: 'k'"}  # fmt: skip


def make_queue(db: TenantDb, bus: FakeServiceBus, max_attempts: int = 2) -> ServiceBusJobQueue:
    return ServiceBusJobQueue(
        db.sessions, bus, queue_name=bus.queue, visibility_timeout_s=60, max_attempts=max_attempts
    )


async def submit(db: TenantDb, queue: ServiceBusJobQueue) -> uuid.UUID:
    async with tenant_session(db.sessions, db.org_a) as session:
        submitted = await submit_log(
            session, org_id=db.org_a, log_data=LOG, source=None, max_attempts=queue.max_attempts
        )
        await session.commit()
    assert submitted.job_id is not None
    await queue.dispatch([(submitted.job_id, db.org_a, submitted.report_id)])
    return submitted.report_id


async def state(db: TenantDb, report_id: uuid.UUID) -> tuple[Report, Job]:
    async with tenant_session(db.sessions, db.org_a) as session:
        report = await session.get(Report, report_id, populate_existing=True)
        job = await session.scalar(
            select(Job).where(Job.report_id == report_id).execution_options(populate_existing=True)
        )
    assert report is not None and job is not None
    return report, job


async def test_a_job_travels_through_the_broker_and_is_settled_after_commit(
    tenant_db: TenantDb,
) -> None:
    bus = FakeServiceBus()
    queue = make_queue(tenant_db, bus)
    report_id = await submit(tenant_db, queue)
    _, job = await state(tenant_db, report_id)
    assert bus.pending() == [f"{job.id}:0"]
    assert json.loads(bus.messages[0].data)["report_id"] == str(report_id)
    assert job.dispatched_at is not None
    claimed = await queue.claim("w1")
    assert claimed is not None and claimed.attempts == 1
    assert bus.renewer is not None  # the SDK's AutoLockRenewer keeps the lock while we work
    assert await process_job(tenant_db.sessions, queue, claimed) is ReportStatus.COMPLETE
    report, job = await state(tenant_db, report_id)
    assert report.status is ReportStatus.COMPLETE and job.status is JobStatus.DONE
    assert bus.pending() == []  # completed only now, after the result was committed


async def test_a_failed_attempt_is_rescheduled_then_dead_lettered(tenant_db: TenantDb) -> None:
    bus = FakeServiceBus()
    queue = make_queue(tenant_db, bus, max_attempts=2)
    report_id = await submit(tenant_db, queue)

    async def broken(job: JobInput) -> DiagnosisReport:
        raise ConnectionError("provider unreachable")

    first = await queue.claim("w1")
    assert first is not None
    await process_job(tenant_db.sessions, queue, first, diagnose=broken, retry_delay_s=0)
    _, job = await state(tenant_db, report_id)
    assert job.status is JobStatus.QUEUED and job.dispatched_at is not None
    assert bus.pending() == [f"{job.id}:1"]  # the retry, scheduled; the first one completed
    second = await queue.claim("w1")
    assert second is not None and second.attempts == 2
    await process_job(tenant_db.sessions, queue, second, diagnose=broken, retry_delay_s=0)
    report, job = await state(tenant_db, report_id)
    assert report.status is ReportStatus.FAILED and job.status is JobStatus.FAILED
    assert bus.pending() == []
    assert [(m.message_id, reason) for m, reason, _ in bus.dead_letters] == [
        (f"{job.id}:1", "failed")
    ]


async def test_a_worker_that_dies_loses_nothing(tenant_db: TenantDb) -> None:
    bus = FakeServiceBus()
    queue = make_queue(tenant_db, bus, max_attempts=2)
    report_id = await submit(tenant_db, queue)
    assert await queue.claim("dies") is not None  # and never settles
    bus.expire_locks()
    again = await queue.claim("w2")
    assert again is not None and again.attempts == 2
    await process_job(tenant_db.sessions, queue, again)
    report, _ = await state(tenant_db, report_id)
    assert report.status is ReportStatus.COMPLETE
    # A message delivered again for a finished job is settled without work.
    body = {"job_id": str(again.id), "org_id": str(tenant_db.org_a), "report_id": str(report_id)}
    bus.send_messages([ServiceBusMessage(json.dumps(body), message_id="replayed")])
    assert await queue.claim("w3") is None
    assert bus.pending() == []


async def test_the_last_attempt_dying_fails_the_job_instead_of_looping(
    tenant_db: TenantDb,
) -> None:
    bus = FakeServiceBus()
    queue = make_queue(tenant_db, bus, max_attempts=1)
    report_id = await submit(tenant_db, queue)
    assert await queue.claim("dies") is not None
    bus.expire_locks()
    assert await queue.claim("w2") is None
    report, job = await state(tenant_db, report_id)
    assert job.status is JobStatus.FAILED
    assert "stopped" in (job.last_error or "")
    assert len(bus.dead_letters) == 1
    # Its report does not stay "running" for ever: it failed, saying why.
    assert report.status is ReportStatus.FAILED and "stopped" in (report.error or "")


async def test_a_lost_send_is_swept_up(tenant_db: TenantDb) -> None:
    bus = FakeServiceBus(fail_sends=1)
    queue = make_queue(tenant_db, bus)
    with pytest.raises(ConnectionError):
        await submit(tenant_db, queue)  # committed, not sent
    assert bus.pending() == []
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        lost = text("UPDATE jobs SET updated_at = now() - interval '5 minutes', request_id = :r")
        await session.execute(lost, {"r": "req-lost"})
        await session.commit()
    assert await queue.sweep(older_than_s=60) == 1
    assert len(bus.pending()) == 1
    assert bus.sent[-1].correlation_id == "req-lost"  # the row's request id, read in its org
    assert await queue.sweep(older_than_s=60) == 0  # marked dispatched


async def test_an_unreadable_message_is_dead_lettered(tenant_db: TenantDb) -> None:
    bus = FakeServiceBus()
    bus.send_messages([ServiceBusMessage("not json", message_id="junk")])
    assert await make_queue(tenant_db, bus).claim("w1") is None
    assert [reason for _, reason, _ in bus.dead_letters] == ["unreadable"]


@pytest.mark.skipif(
    not os.environ.get("LOGDAWG_TEST_SERVICEBUS_NAMESPACE"),
    reason="set LOGDAWG_TEST_SERVICEBUS_NAMESPACE (and az login) to run against Service Bus",
)
async def test_against_a_real_namespace(tenant_db: TenantDb) -> None:
    from azure.identity import DefaultAzureCredential
    from azure.servicebus import ServiceBusClient

    client: Any = ServiceBusClient(
        os.environ["LOGDAWG_TEST_SERVICEBUS_NAMESPACE"], credential=DefaultAzureCredential()
    )
    queue = ServiceBusJobQueue(
        tenant_db.sessions, client,
        queue_name=os.environ.get("LOGDAWG_TEST_SERVICEBUS_QUEUE", "diagnosis-jobs"),
        visibility_timeout_s=60, max_attempts=2, receive_wait_s=10,
    )  # fmt: skip
    report_id = await submit(tenant_db, queue)
    claimed = await queue.claim("live")
    assert claimed is not None and claimed.report_id == report_id
    await process_job(tenant_db.sessions, queue, claimed)
    await queue.aclose()


async def test_a_worker_claims_up_to_its_free_slots_and_stale_outcomes_are_not_settled(
    tenant_db: TenantDb,
) -> None:
    bus = FakeServiceBus()
    queue = make_queue(tenant_db, bus)
    reports = [await submit(tenant_db, queue) for _ in range(3)]
    first = await queue.claim_many("w1", 2)
    assert len(first) == 2 and {j.worker_id for j in first} == {"w1"}
    rest = await queue.claim_many("w1", 5)
    assert [j.report_id for j in rest] == [
        r for r in reports if r not in {j.report_id for j in first}
    ]

    # The first job's lease is lost: another claim of the row supersedes it.
    stale = first[0]
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session, session.begin():
        await session.execute(
            text("UPDATE jobs SET locked_by = 'w2', attempts = attempts + 1 WHERE id = :id"),
            {"id": stale.id},
        )
    assert await process_job(tenant_db.sessions, queue, stale) is None
    report, job = await state(tenant_db, stale.report_id)
    assert report.status is not ReportStatus.COMPLETE and job.locked_by == "w2"
    assert f"{stale.id}:0" in bus.pending(), "a discarded outcome settles nothing"
    for job_ in (first[1], *rest):
        assert await process_job(tenant_db.sessions, queue, job_) is ReportStatus.COMPLETE


async def test_the_request_id_travels_in_the_message_and_into_the_workers_log_lines(
    tenant_db: TenantDb, platform: Platform
) -> None:
    """X-Request-ID of the request that accepted a log -> the job's Service Bus message (its
    AMQP correlation-id and a request_id property, as the SDK builds them) -> every log line
    the worker writes for that job; also for the message a failed attempt schedules."""
    from worker.main import run_once

    bus = FakeServiceBus()
    over_bus = replace(platform, queue=make_queue(tenant_db, bus))
    transport = httpx.ASGITransport(app=create_app(platform=over_bus))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        accepted = await client.post(
            "/api/v1/logs/diagnose", json={"log_data": LOG}, headers={"X-Request-ID": "req-sb.7"}
        )
    assert accepted.status_code == 202
    (sent,) = bus.sent
    assert sent.raw_amqp_message.properties.correlation_id == "req-sb.7"
    assert sent.application_properties["request_id"] == "req-sb.7"
    assert json.loads(b"".join(sent.body))["report_id"] == accepted.json()["diagnosis_id"]

    lines: list[dict[str, Any]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(JsonFormatter().format(record)))

    handler = Capture(level=logging.INFO)
    worker_log = logging.getLogger("worker")
    worker_log.addHandler(handler)
    previous = worker_log.level
    worker_log.setLevel(logging.INFO)
    try:

        async def broken(job: JobInput) -> DiagnosisReport:
            raise RuntimeError("provider timeout")

        assert await run_once(over_bus, "w1", diagnose=broken)
    finally:
        worker_log.removeHandler(handler)
        worker_log.setLevel(previous)
    assert lines and all(line["request_id"] == "req-sb.7" for line in lines), lines
    # The retry the failed attempt scheduled still names the request.
    retry = bus.sent[-1]
    assert retry.message_id.endswith(":1")
    assert retry.correlation_id == "req-sb.7"


async def test_a_message_without_a_request_carries_no_correlation_id(tenant_db: TenantDb) -> None:
    bus = FakeServiceBus()
    queue = make_queue(tenant_db, bus)
    await submit(tenant_db, queue)
    (sent,) = bus.sent
    assert sent.correlation_id is None
    assert "request_id" not in sent.application_properties


async def test_a_rerun_is_sent_with_the_id_of_the_request_that_asked_for_it(
    tenant_db: TenantDb, platform: Platform
) -> None:
    from worker.main import run_once

    bus = FakeServiceBus()
    over_bus = replace(platform, queue=make_queue(tenant_db, bus))
    transport = httpx.ASGITransport(app=create_app(platform=over_bus))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        accepted = await client.post(
            "/api/v1/logs/diagnose", json={"log_data": LOG}, headers={"X-Request-ID": "req-first"}
        )
        report_id = accepted.json()["diagnosis_id"]
        assert await run_once(over_bus, "w1")
        rerun = await client.post(
            f"/api/v1/reports/{report_id}/rerun", headers={"X-Request-ID": "req-rerun"}
        )
    assert rerun.status_code == 202, rerun.text
    assert [m.correlation_id for m in bus.sent] == ["req-first", "req-rerun"]
    _, job = await state(tenant_db, uuid.UUID(report_id))
    assert job.request_id == "req-rerun"


async def notified_of_new_issues(db: TenantDb, tmp_path: Path) -> None:
    """A Slack rule on new issues in organisation A (sealed with a key file in tmp_path)."""
    from app.notifications import rules
    from app.secrets.local import LocalKeyFile

    async with tenant_session(db.sessions, db.org_a) as session:
        await rules.create(
            session, LocalKeyFile(tmp_path / "kek"),
            rules.RuleInput(name="on-call", trigger="new", channel="slack", config={},
                            secret="https://hooks.slack.example/services/T0/B0/secret"),
            org_id=db.org_a, created_by=None, multi_tenant=False,
        )  # fmt: skip
        await session.commit()


async def diagnosed_under_a_rule(
    db: TenantDb, tmp_path: Path, **settings: Any
) -> tuple[FakeServiceBus, ServiceBusJobQueue]:
    """A log submitted over Service Bus and diagnosed by a worker whose issues notify a Slack
    rule on new issues (``notified_of_new_issues``): the diagnosis opened a new issue."""
    from app.notifications.sink import NotificationSink
    from app.settings import Settings

    bus = FakeServiceBus()
    queue = make_queue(db, bus)
    await notified_of_new_issues(db, tmp_path)
    await submit(db, queue)
    claimed = await queue.claim("w1")
    assert claimed is not None
    sink = NotificationSink(queue, Settings(key_file=tmp_path / "kek", **settings))
    status = await process_job(db.sessions, queue, claimed, events=sink)
    assert status is ReportStatus.COMPLETE
    return bus, queue


async def test_a_notification_the_worker_queues_is_sent_when_it_commits(
    tenant_db: TenantDb, tmp_path: Path
) -> None:
    """A diagnosis that opens a new issue queues a notify job in its own transaction; the job's
    message leaves right after that commit, not at the next sweep."""
    bus, _ = await diagnosed_under_a_rule(
        tenant_db, tmp_path, public_url="https://logdawg.example.com"
    )
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        notify = (await session.scalars(select(Job).where(Job.kind == "notify"))).all()
    assert len(notify) == 1
    assert bus.pending() == [f"{notify[0].id}:0"]


async def test_a_notify_job_given_up_fails_its_delivery(
    tenant_db: TenantDb, tmp_path: Path
) -> None:
    """As with the PostgreSQL queue: the last attempt's worker stopped, the job is given up,
    and its delivery says failed instead of waiting for ever."""
    from app.db.models import NotificationDelivery

    bus, queue = await diagnosed_under_a_rule(tenant_db, tmp_path, notify_max_attempts=1)
    notify = await queue.claim("dies")
    assert notify is not None and notify.kind == "notify"
    bus.expire_locks()
    assert await queue.claim("w2") is None
    async with tenant_session(tenant_db.sessions, tenant_db.org_a) as session:
        [delivery] = (await session.scalars(select(NotificationDelivery))).all()
    assert delivery.status == "failed" and "stopped" in (delivery.error or "")
