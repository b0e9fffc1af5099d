"""Notifications end to end on real PostgreSQL: rules → the sink → notify jobs → the
notifier → local stand-ins for Slack, Teams, a signature-checking webhook receiver and an SMTP
server, including their failures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from app.db.models import JobStatus, Report
from app.issues.events import IssueEventKind
from tests.fakes.receivers import Mailbox, serve_receiver, serve_smtp
from tests.integration.notifications.conftest import SHA, World

pytestmark = pytest.mark.integration

LINK_PREFIX = "https://logdawg.example.com/reports/"


def smtp_config(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "host": mailbox.host,
        "port": mailbox.port,
        "starttls": False,
        "from_address": "logdawg@acme.example",
        "to": ["oncall@acme.example"],
    }


async def test_slack_gets_title_culprit_commit_and_link(world: World) -> None:
    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url)
        report = await world.report()
        await world.publish(report)
        assert await world.run_due() == ["delivered"]
    [body] = slack.bodies()
    text = str(body)
    assert body["text"].startswith("New issue: ZeroDivisionError in checkout total")
    assert "src/app/cart.py:42" in text and SHA[:12] in text
    assert f"{LINK_PREFIX}{report}" in body["text"]
    assert {b["type"] for b in body["blocks"]} >= {"header", "section", "actions"}
    [delivery] = await world.deliveries(rule.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 1)


async def test_teams_gets_an_adaptive_card_in_the_message_envelope(world: World) -> None:
    with serve_receiver("teams") as teams:
        await world.rule(channel="teams", secret=teams.url, trigger="regression")
        report = await world.report()
        await world.publish(report, IssueEventKind.NEW)  # not this rule's trigger
        assert await world.run_due() == []
        await world.publish(report, IssueEventKind.REGRESSION)
        assert await world.run_due() == ["delivered"]
    [body] = teams.bodies()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == "Regression"
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Culprit"] == "src/app/cart.py:42" and facts["Suspect commit"].startswith(SHA[:12])
    assert card["actions"][0]["url"] == f"{LINK_PREFIX}{report}"


async def test_webhook_receiver_verifies_the_signature(world: World) -> None:
    secret = "whsec-" + "k" * 26
    with serve_receiver("webhook", secret=secret) as hook:
        await world.rule(channel="webhook", secret=secret, config={"url": hook.url})
        report = await world.report()
        await world.publish(report)
        assert await world.run_due() == ["delivered"]
    assert hook.rejected == []
    [received] = hook.received
    body = received.json()
    assert body["type"] == "notification" and body["report_id"] == str(report)
    assert body["culprit"] == "src/app/cart.py:42" and body["suspect_commit"]["sha"] == SHA
    assert received.headers["x-logdawg-delivery"] == body["delivery_id"]


async def test_a_webhook_signed_with_another_secret_is_rejected_and_not_retried(
    world: World,
) -> None:
    with serve_receiver("webhook", secret="the-receivers-own-secret") as hook:
        rule = await world.rule(channel="webhook", secret="x" * 20, config={"url": hook.url})
        await world.publish(await world.report())
        assert await world.run_due() == ["failed"]
        await world.make_due()
        assert await world.run_due() == []  # a 4xx is recorded, never retried
    assert hook.rejected == ["bad signature"]
    [delivery] = await world.deliveries(rule.id)
    assert delivery.response_code == 401 and "bad signature" in (delivery.error or "")


async def test_email_goes_through_smtp(world: World) -> None:
    with serve_smtp() as mailbox:
        config = smtp_config(mailbox)
        await world.rule(channel="email", config=config)
        report = await world.report()
        await world.publish(report)
        assert await world.run_due() == ["delivered"]
        [message] = mailbox.messages
    assert mailbox.envelopes == [("logdawg@acme.example", ["oncall@acme.example"])]
    assert message["Subject"] == "[Log Dawg] New issue: ZeroDivisionError in checkout total"
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Culprit: src/app/cart.py:42" in text and f"{LINK_PREFIX}{report}" in text


async def test_smtp_4xx_is_retried_and_5xx_recorded(world: World) -> None:
    with serve_smtp() as mailbox:
        config = smtp_config(mailbox)
        rule = await world.rule(channel="email", config=config)
        mailbox.fail_next = ["451 4.3.0 try again later", "550 5.7.1 relaying denied"]
        await world.publish(await world.report())
        assert await world.run_due() == ["retrying"]
        assert await world.run_due() == ["failed"]
    [delivery] = await world.deliveries(rule.id)
    assert (delivery.response_code, delivery.attempts) == (550, 2)


async def test_429_honours_retry_after_then_delivers(world: World) -> None:
    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url)
        slack.fail_next = [(429, {"Retry-After": "120"})]
        await world.publish(await world.report())
        before = datetime.now(UTC)
        assert await world.run_due() == ["retrying"]
        [delivery] = await world.deliveries(rule.id)
        assert delivery.response_code == 429 and delivery.next_retry_at is not None
        assert 110 <= (delivery.next_retry_at - before).total_seconds() <= 130
        assert await world.run_due() == []  # not before the receiver said
        await world.make_due()
        assert await world.run_due() == ["delivered"]
    [delivery] = await world.deliveries(rule.id)
    assert (delivery.status, delivery.attempts, delivery.next_retry_at) == ("delivered", 2, None)
    assert len(slack.received) == 1


async def test_5xx_and_timeouts_are_retried_until_the_last_attempt(world: World) -> None:
    with serve_receiver("teams") as teams:
        rule = await world.rule(channel="teams", secret=teams.url)
        teams.fail_next = [(503, {}), "timeout", (500, {})]
        await world.publish(await world.report())
        assert await world.run_due() == ["retrying"]  # 503
        log = await world.deliveries(rule.id)
        assert log[0].response_code == 503
        assert await world.run_due() == ["retrying"]  # timed out
        log = await world.deliveries(rule.id)
        assert log[0].response_code is None and "timed out" in (log[0].error or "")
        assert await world.run_due() == ["failed"]  # 500 on the third and last attempt
    [delivery] = await world.deliveries(rule.id)
    assert delivery.attempts == 3 and "gave up after 3 attempts" in (delivery.error or "")
    [job] = await world.jobs()
    assert job.status is JobStatus.FAILED


async def test_other_4xx_is_recorded_not_retried(world: World) -> None:
    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url)
        slack.fail_next = [(404, {})]
        await world.publish(await world.report())
        assert await world.run_due() == ["failed"]
        await world.make_due()
        assert await world.run_due() == []
    [delivery] = await world.deliveries(rule.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("failed", 404, 1)
    assert slack.received == []


async def test_a_storm_becomes_one_digest(world: World) -> None:
    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url, storm_limit=3)
        for n in range(10):
            await world.publish(await world.report(f"Error number {n}"))
        assert await world.run_due() == ["delivered"] * 3  # the digest waits for its window
        log = await world.deliveries(rule.id)
        assert [d.status for d in log].count("digested") == 7
        [digest] = [d for d in log if d.kind == "digest"]
        assert {d.digest_id for d in log if d.status == "digested"} == {digest.id}
        await world.make_due()  # the window has passed
        assert await world.run_due() == ["delivered"]
    assert len(slack.received) == 4  # three messages and one digest, not ten
    text = slack.bodies()[-1]["text"]
    assert text.startswith("7 more notifications in the last 10 min")
    assert all(f"Error number {n}" in text for n in range(3, 10))


async def test_a_threshold_rule_fires_once_per_crossing(world: World) -> None:
    with serve_receiver("slack") as slack:
        await world.rule(
            channel="slack", secret=slack.url, trigger="threshold",
            threshold_count=3, threshold_minutes=10,
        )  # fmt: skip
        report = await world.report()
        issue = uuid.uuid4()
        await world.publish(report, IssueEventKind.NEW, issue)  # 1 occurrence
        for _ in range(2):
            await world.add_occurrence(report)
            await world.publish(report, IssueEventKind.OCCURRENCE, issue)
        await world.add_occurrence(report)
        await world.publish(report, IssueEventKind.OCCURRENCE, issue)  # 4: still the same crossing
        assert await world.run_due() == ["delivered"]
    [body] = slack.bodies()
    assert body["text"].startswith("Issue crossing its threshold:")


async def test_the_worker_hands_notify_jobs_to_the_notifier(world: World, tmp_path: Any) -> None:
    """The worker's one entry (``run_once``) sends a notification; no diagnosis runs."""
    from app.bootstrap import Platform
    from app.db import migrate
    from worker.main import run_once

    async def no_diagnosis(job: Any) -> Any:
        raise AssertionError("a notify job must not be diagnosed")

    platform = Platform(
        settings=world.settings, engine=None, sessions=world.db.sessions,  # type: ignore[arg-type]
        queue=world.queue, kek=world.kek, head_revision=migrate.head_revision(),
        local_org_id=world.db.org_a, embedded=None,
    )  # fmt: skip
    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url)
        await world.publish(await world.report())
        assert await run_once(platform, "worker-1", diagnose=no_diagnosis) is True
    assert len(slack.received) == 1
    [delivery] = await world.deliveries(rule.id)
    assert delivery.status == "delivered"


async def test_multi_tenant_never_sends_to_an_internal_address(world: World) -> None:
    """Checked again at send time: a name may resolve elsewhere than when the rule was made."""
    from app.notifications.delivery import Notifier

    settings = world.settings.model_copy(update={"mode": "multi_tenant"})
    notifier = Notifier(world.db.sessions, world.queue, world.kek, settings)
    try:
        with serve_receiver("slack") as slack:
            rule = await world.rule(channel="slack", secret=slack.url)
            await world.publish(await world.report())
            [job] = await world.queue.claim_many("test-worker", 5)
            assert await notifier(job) == "failed"
        assert slack.received == []
        [delivery] = await world.deliveries(rule.id)
        assert "refused" in (delivery.error or "")
    finally:
        await notifier.aclose()


async def test_deleting_the_report_fails_its_waiting_messages_with_the_reason(
    world: World,
) -> None:
    from app.db.session import tenant_session
    from app.services.reports import delete_report

    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url)
        kept, deleted = await world.report("kept"), await world.report("deleted")
        await world.publish(kept)
        await world.publish(deleted)
        async with tenant_session(world.db.sessions, world.db.org_a) as session:
            report = await session.get(Report, deleted)
            assert report is not None
            await delete_report(session, report)
            await session.commit()
        assert await world.run_due() == ["delivered"]
    assert len(slack.received) == 1
    by_status = {d.status: d for d in await world.deliveries(rule.id)}
    assert set(by_status) == {"delivered", "failed"}
    assert by_status["failed"].error == "not sent: the report was deleted"
    assert all(job.status is JobStatus.DONE for job in await world.jobs())


async def test_deleting_the_report_a_digest_was_opened_for_still_sends_the_digest(
    world: World,
) -> None:
    from app.db.session import tenant_session
    from app.services.reports import delete_report

    with serve_receiver("slack") as slack:
        rule = await world.rule(channel="slack", secret=slack.url, storm_limit=1)
        first, opener, later = [await world.report(f"Error {n}") for n in ("A", "B", "C")]
        for report_id in (first, opener, later):
            await world.publish(report_id)
        assert await world.run_due() == ["delivered"]  # A; B opened the digest, C joined it
        [digest] = [d for d in await world.deliveries(rule.id) if d.kind == "digest"]
        assert digest.report_id == opener
        async with tenant_session(world.db.sessions, world.db.org_a) as session:
            report = await session.get(Report, opener)
            assert report is not None
            await delete_report(session, report)
            await session.commit()
        await world.make_due()
        assert await world.run_due() == ["delivered"]
    assert "Error C" in slack.bodies()[-1]["text"]
    [digest] = [d for d in await world.deliveries(rule.id) if d.kind == "digest"]
    assert (digest.status, digest.report_id) == ("delivered", later)


async def test_a_notify_job_given_up_by_the_queue_fails_its_delivery(world: World) -> None:
    """The worker sending the last attempt stopped (its lease ran out): the queue gives the
    job up, and the delivery log says so instead of showing it waiting."""
    from sqlalchemy import text

    from app.db.session import tenant_session

    rule = await world.rule(channel="slack", secret="https://hooks.slack.example/services/x")
    await world.publish(await world.report())
    async with tenant_session(world.db.sessions, world.db.org_a) as session:
        await session.execute(
            text(
                "UPDATE jobs SET status = 'running', attempts = max_attempts, "
                "locked_by = 'gone', locked_until = now() - interval '1 minute' "
                "WHERE kind = 'notify'"
            )
        )
        await session.commit()
    assert await world.queue.claim_many("w2", 5) == []
    [job] = await world.jobs()
    assert job.status is JobStatus.FAILED
    [delivery] = await world.deliveries(rule.id)
    assert delivery.status == "failed" and "worker stopped" in (delivery.error or "")
