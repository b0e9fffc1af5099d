"""Group commit of the ingest statement (app.services.reports.SubmitBatches): logs accepted at
the same moment are written in one transaction, each request still gets its own log's answer,
one log's failure is its own, and a request that gave up before its batch is not written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.db.embedded import EmbeddedDatabase
from app.db.session import direct_connections
from app.services import reports
from app.services.reports import SubmitBatches, Submitted, UnknownRepository

WINDOW_S = 3600


@dataclass
class Db:
    """The application's engine, two organisations, and a db.su's connection beside."""

    engine: AsyncEngine
    a: uuid.UUID
    b: uuid.UUID
    su: psycopg.Connection[Any]
    conninfo: str


@pytest.fixture
async def db(app_engine: AsyncEngine, embedded: EmbeddedDatabase) -> AsyncIterator[Db]:
    conninfo = embedded.superuser_conninfo(embedded.database)
    a, b = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(conninfo, autocommit=True) as su:
        for org in (a, b):
            su.execute(
                "INSERT INTO organisations (id, slug, name) VALUES (%s, %s, 'batches')",
                (org, f"batch-{org.hex[:8]}"),
            )
        yield Db(app_engine, a, b, su, conninfo)
        su.execute("DELETE FROM organisations WHERE id IN (%s, %s)", (a, b))


def _log(text: str) -> dict[str, Any]:
    return {"content": text, "source": "batch-test", "metadata": {"n": text}}


def _params(org: uuid.UUID, text: str, fingerprint: str | None = None) -> dict[str, Any]:
    """The statement's parameters for a log, as accept_log makes them."""
    return reports._params(
        org_id=org, log_data=_log(text), source="batch-test", repo_id=None,
        fingerprint=fingerprint or f"fp-{uuid.uuid4().hex}", commit=None, window_s=WINDOW_S,
        max_attempts=5, request_id=None,
    )  # fmt: skip


async def _accept(
    engine: AsyncEngine, org: uuid.UUID, text: str, fingerprint: str, **kwargs: Any
) -> Submitted:
    return await reports.accept_log(
        async_sessionmaker(bind=engine),  # an engine: the batched driver path
        org_id=org, log_data=_log(text), source="batch-test", fingerprint=fingerprint,
        window_s=WINDOW_S, **kwargs,
    )  # fmt: skip


def _count(su: psycopg.Connection[Any], sql: str, *params: Any) -> int:
    row = su.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def _rows(su: psycopg.Connection[Any], ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Any, ...]]:
    found = su.execute(
        "SELECT id, org_id, log_data->>'content', fingerprint, occurrence_count, xmin::text "
        "FROM reports WHERE id = ANY(%s)",
        (ids,),
    ).fetchall()
    return {row[0]: row[1:] for row in found}


async def test_logs_accepted_at_once_share_a_transaction_and_each_gets_its_own_answer(
    db: Db,
) -> None:
    a, b = db.a, db.b
    sent = [
        (a if i % 2 else b, f"KeyError: 'sku-{i}'", f"fp-{uuid.uuid4().hex}") for i in range(12)
    ]
    answers = await asyncio.gather(*(_accept(db.engine, *log) for log in sent))

    rows = _rows(db.su, [answer.report_id for answer in answers])
    assert len(rows) == 12  # a report each
    for (org, text, fingerprint), answer in zip(sent, answers, strict=True):
        assert not answer.repeat and answer.job_id is not None and answer.occurrence_count == 1
        # Each answer names the report of its own log, in its own organisation.
        assert rows[answer.report_id][:3] == (org, text, fingerprint)
    # Written together: one transaction wrote all twelve (and the jobs, which a request
    # issued one by one would have committed separately).
    assert len({row[4] for row in rows.values()}) == 1
    ids = [answer.report_id for answer in answers]
    assert _count(db.su, "SELECT count(*) FROM jobs WHERE report_id = ANY(%s)", ids) == 12


async def test_repeats_in_one_batch_count_on_one_report_per_organisation(db: Db) -> None:
    a, b = db.a, db.b
    fingerprint = f"fp-{uuid.uuid4().hex}"
    sent = [(a, f"ZeroDivisionError: division by zero ({i})") for i in range(8)]
    sent.append((b, "ZeroDivisionError: division by zero (b)"))
    answers = await asyncio.gather(*(_accept(db.engine, org, t, fingerprint) for org, t in sent))

    in_a, in_b = answers[:8], answers[8]
    assert len({answer.report_id for answer in in_a}) == 1
    assert sorted(answer.occurrence_count for answer in in_a) == list(range(1, 9))
    assert [answer.repeat for answer in in_a].count(False) == 1  # the first sighting
    # The same error in another organisation is that organisation's own report.
    assert not in_b.repeat and in_b.report_id != in_a[0].report_id
    report = _rows(db.su, [in_a[0].report_id])[in_a[0].report_id]
    assert report[3] == 8
    occurrences = "SELECT count(*) FROM report_occurrences WHERE report_id = %s"
    assert _count(db.su, occurrences, in_a[0].report_id) == 7


async def test_one_logs_failure_is_its_own(db: Db) -> None:
    """In one batch: a log of an organisation deleted meanwhile (a foreign key violation) and
    a log naming an unknown repository. Each fails alone; the logs beside them are written."""
    a = db.a
    gone, texts = uuid.uuid4(), [f"ValueError: bad quantity {i}" for i in range(5)]
    outcomes = await asyncio.gather(
        *(_accept(db.engine, a, t, f"fp-{uuid.uuid4().hex}") for t in texts),
        _accept(db.engine, gone, "ValueError: orphan", "fp-orphan"),
        _accept(db.engine, a, "ValueError: where", "fp-where", repo_id=uuid.uuid4()),
        return_exceptions=True,
    )
    written, orphan, unknown = outcomes[:5], outcomes[5], outcomes[6]
    assert isinstance(orphan, psycopg.errors.ForeignKeyViolation)
    assert isinstance(unknown, UnknownRepository)
    assert all(isinstance(x, Submitted) for x in written)
    rows = _rows(db.su, [x.report_id for x in written if isinstance(x, Submitted)])
    assert sorted(row[1] for row in rows.values()) == texts
    written_instead = "SELECT count(*) FROM reports WHERE org_id = %s OR log_data->>'content' = %s"
    assert _count(db.su, written_instead, gone, "ValueError: where") == 0


async def test_a_request_that_gave_up_before_its_batch_is_not_written(db: Db) -> None:
    a = db.a
    batches = SubmitBatches(db.engine, lanes=1)
    direct = direct_connections(db.engine)

    async with AsyncExitStack() as held:
        # Every direct connection lent out: the only lane waits for one with its first log.
        for _ in range(direct.size):
            await held.enter_async_context(direct.connection())
        first = asyncio.create_task(batches.submit(_params(a, "OSError: first")))
        await asyncio.sleep(0.05)
        gave_up = asyncio.create_task(batches.submit(_params(a, "OSError: gave up")))
        kept = asyncio.create_task(batches.submit(_params(a, "OSError: kept")))
        await asyncio.sleep(0.05)  # both wait for the lane's next batch
        gave_up.cancel()
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(first, kept), timeout=30)
    assert gave_up.cancelled()

    stored = db.su.execute(
        "SELECT log_data->>'content' FROM reports WHERE org_id = %s ORDER BY 1", (a,)
    ).fetchall()
    assert stored == [("OSError: first",), ("OSError: kept",)]


async def test_a_lost_connection_fails_the_whole_batch_and_writes_none_of_it(db: Db) -> None:
    """Five new logs and a repeat in one batch; the repeat waits on its report's row, which
    another transaction holds, and then the batch's connection is lost. Every request of the
    batch fails (the API answers 503), and none of the five new logs was committed: the
    requests that failed did not get a report that exists anyway."""
    a = db.a
    held = f"fp-held-{uuid.uuid4().hex}"  # sorts after the others: the batch's last log
    first = await _accept(db.engine, a, "TimeoutError: first", held)
    conninfo = db.conninfo
    with psycopg.connect(conninfo) as holder:
        holder.execute("SELECT 1 FROM reports WHERE id = %s FOR UPDATE", (first.report_id,))
        batch = asyncio.gather(
            *(_accept(db.engine, a, f"TimeoutError: new {i}", f"fp-{uuid.uuid4().hex}")
              for i in range(5)),
            _accept(db.engine, a, "TimeoutError: repeat", held),
            return_exceptions=True,
        )  # fmt: skip
        waiting = (
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s"
        )
        for _ in range(200):
            await asyncio.sleep(0.05)
            if row := db.su.execute(waiting, ("%logdawg_submit_log%",)).fetchone():
                db.su.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                break
        else:
            pytest.fail("the batch never waited for the held row")
        outcomes = await asyncio.wait_for(batch, timeout=30)
        holder.rollback()

    assert all(isinstance(outcome, psycopg.OperationalError) for outcome in outcomes), outcomes
    new = "SELECT count(*) FROM reports WHERE org_id = %s AND log_data->>'content' LIKE %s"
    assert _count(db.su, new, a, "TimeoutError: new%") == 0
    occurrences = "SELECT count(*) FROM report_occurrences WHERE report_id = %s"
    assert _count(db.su, occurrences, first.report_id) == 0
    # The next log goes through (the lost connection is not lent again).
    assert not (await _accept(db.engine, a, "TimeoutError: after", f"fp-{uuid.uuid4().hex}")).repeat


async def _waiting_on_a_lock(su: psycopg.Connection[Any], like: str) -> int:
    """The backend whose statement (matching ``like``) waits on a lock, once it does."""
    sql = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s"
    for _ in range(200):
        if row := su.execute(sql, (like,)).fetchone():
            return int(row[0])
        await asyncio.sleep(0.05)
    pytest.fail(f"no statement like {like!r} waited on a lock")


def _lock_group(conn: psycopg.Connection[Any], fingerprint: str) -> None:
    conn.execute(
        "SELECT 1 FROM report_groups WHERE group_key LIKE %s FOR UPDATE", (f"{fingerprint}|%",)
    )


async def test_batches_lock_groups_in_one_order(db: Db) -> None:
    """Repeats of groups 1 and 2 submitted as 2, 1 while group 1's row is held: the batch
    waits for group 1 holding nothing, so group 2 is free to lock. A batch written in the
    order it arrived would hold group 2 while waiting for group 1, the half of a deadlock
    with any batch that holds group 1 and wants group 2."""
    a = db.a
    one, two = f"fp-1-{uuid.uuid4().hex}", f"fp-2-{uuid.uuid4().hex}"
    await _accept(db.engine, a, "KeyError: 'one'", one)
    await _accept(db.engine, a, "KeyError: 'two'", two)
    conninfo = db.conninfo
    with psycopg.connect(conninfo) as holder, psycopg.connect(conninfo) as prober:
        _lock_group(holder, one)
        batch = asyncio.gather(
            _accept(db.engine, a, "KeyError: 'two' again", two),
            _accept(db.engine, a, "KeyError: 'one' again", one),
        )
        await _waiting_on_a_lock(db.su, "%logdawg_submit_log%")
        prober.execute("SET lock_timeout = '100ms'")
        _lock_group(prober, two)  # raises LockNotAvailable if the batch held it
        prober.rollback()
        holder.rollback()
        answers = await asyncio.wait_for(batch, timeout=30)
    assert [(x.repeat, x.occurrence_count) for x in answers] == [(True, 2), (True, 2)]


async def test_waking_a_worker_never_waits_for_another_batch(db: Db) -> None:
    """A new job wakes the idle workers by deleting their ``queue_waiters`` rows (the
    ``jobs_notify`` trigger). Batch X (a new log, then a repeat of group 1) has deleted the
    waiter's row and waits for group 1, which transaction Y holds; Y then writes a new log.
    Were Y's trigger to wait for the waiter's row, X and Y would wait for each other."""
    a = db.a
    one = f"fp-1-{uuid.uuid4().hex}"

    def args(*fingerprints: str) -> list[list[Any]]:
        return reports._batch_args([_params(a, f"LookupError: {fp}", fp) for fp in fingerprints])

    conninfo = db.conninfo
    x = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    y = await psycopg.AsyncConnection.connect(conninfo)
    try:
        await x.execute(reports._SUBMIT_MANY, args(one, f"fp-0-{uuid.uuid4().hex}"))
        db.su.execute("INSERT INTO queue_waiters (worker_id) VALUES (%s)", (one,))
        await y.execute(reports._SUBMIT_MANY, args(one))  # a repeat: Y holds group 1
        written = asyncio.create_task(
            x.execute(reports._SUBMIT_MANY, args(f"fp-0-{uuid.uuid4().hex}", one))
        )
        await _waiting_on_a_lock(db.su, "%unnest%")
        await asyncio.wait_for(
            y.execute(reports._SUBMIT_MANY, args(f"fp-9-{uuid.uuid4().hex}")), timeout=30
        )
        await y.commit()
        await asyncio.wait_for(written, timeout=30)
    finally:
        await x.close()
        await y.close()
        db.su.execute("DELETE FROM queue_waiters WHERE worker_id = %s", (one,))


async def test_a_log_naming_the_only_repository_sorts_with_one_leaving_it_out(db: Db) -> None:
    """With one repository, a log that names it and one that leaves it out are the same
    group. A batch of (commit c2, repository left out) and (commit c1, repository named)
    must lock c1's group first, as a batch of the other two pairings does."""
    a = db.a
    repo = uuid.uuid4()
    db.su.execute(
        "INSERT INTO repositories (id, org_id, provider, owner, name) "
        "VALUES (%s, %s, 'github', 'octo', 'shop')",
        (repo, a),
    )
    fingerprint = f"fp-{uuid.uuid4().hex}"
    for commit in ("c1", "c2"):
        await _accept(db.engine, a, f"KeyError: {commit}", fingerprint, commit=commit)
    conninfo = db.conninfo
    with psycopg.connect(conninfo) as holder, psycopg.connect(conninfo) as prober:
        holder.execute(
            "SELECT 1 FROM report_groups WHERE group_key = %s FOR UPDATE",
            (f"{fingerprint}|{repo}|c1",),
        )
        batch = asyncio.gather(
            _accept(db.engine, a, "KeyError: c2 again", fingerprint, commit="c2"),
            _accept(db.engine, a, "KeyError: c1 again", fingerprint, commit="c1", repo_id=repo),
        )
        await _waiting_on_a_lock(db.su, "%logdawg_submit_log%")
        prober.execute("SET lock_timeout = '100ms'")
        prober.execute(
            "SELECT 1 FROM report_groups WHERE group_key = %s FOR UPDATE",
            (f"{fingerprint}|{repo}|c2",),
        )  # raises LockNotAvailable if the batch held c2's group while waiting for c1's
        prober.rollback()
        holder.rollback()
        answers = await asyncio.wait_for(batch, timeout=30)
    assert all(answer.repeat and answer.repo_id == repo for answer in answers)


async def test_logs_over_the_size_budget_go_in_batches_of_their_own(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = db.a
    monkeypatch.setattr(reports, "MAX_BATCH_CHARS", 1)  # every log is over it
    texts = [f"MemoryError: batch {i}" for i in range(6)]
    answers = await asyncio.gather(
        *(_accept(db.engine, a, t, f"fp-{uuid.uuid4().hex}") for t in texts)
    )
    rows = _rows(db.su, [answer.report_id for answer in answers])
    assert sorted(row[1] for row in rows.values()) == texts
    assert len({row[4] for row in rows.values()}) == 6  # six transactions


async def test_a_lane_is_freed_however_its_drain_ends(db: Db) -> None:
    """A drain cancelled before its first step (as the event loop's shutdown cancels tasks)
    still frees its lane: the next log starts a drain, which writes both."""
    a = db.a
    batches = SubmitBatches(db.engine, lanes=1)

    first = asyncio.create_task(batches.submit(_params(a, "EOFError: first")))
    await asyncio.sleep(0)  # ``first`` waits, and its drain is scheduled
    for drain in list(batches._drains):
        drain.cancel()
    await asyncio.sleep(0)
    await asyncio.wait_for(batches.submit(_params(a, "EOFError: second")), timeout=10)
    await asyncio.wait_for(first, timeout=10)
    stored = "SELECT count(*) FROM reports WHERE org_id = %s AND log_data->>'content' LIKE %s"
    assert _count(db.su, stored, a, "EOFError: %") == 2
