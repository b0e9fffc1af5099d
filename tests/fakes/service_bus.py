"""A Service Bus queue in memory, behind the shapes of the azure-servicebus client classes
the adapter uses (``get_queue_sender``/``get_queue_receiver``, send, schedule, receive in
peek-lock mode, complete, dead-letter). Messages sent are the SDK's own ``ServiceBusMessage``
objects; received ones carry ``body`` as the SDK gives it (a generator of byte sections) and
a ``delivery_count``. Locks expire only when a test says so."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Received:
    message_id: str
    data: bytes
    application_properties: dict[str, Any]
    delivery_count: int = 0
    visible_at: datetime | None = None
    locked: bool = False
    correlation_id: str | None = None

    @property
    def body(self) -> Iterator[bytes]:
        yield self.data


@dataclass
class FakeServiceBus:
    queue: str = "diagnosis-jobs"
    messages: list[Received] = field(default_factory=list)
    dead_letters: list[tuple[Received, str, str]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    fail_sends: int = 0
    renewer: Any = None
    # Every ServiceBusMessage handed to the sender, as the SDK built it.
    sent: list[Any] = field(default_factory=list)
    # Calls of send_messages/schedule_messages (one per batch handed over).
    sends: int = 0

    # --- the client ---------------------------------------------------------------------
    def get_queue_sender(self, queue_name: str) -> FakeServiceBus:
        assert queue_name == self.queue
        return self

    def get_queue_receiver(
        self, queue_name: str, auto_lock_renewer: Any = None, prefetch_count: int = 0
    ) -> FakeServiceBus:
        assert queue_name == self.queue
        self.renewer = auto_lock_renewer
        return self

    # --- the sender ---------------------------------------------------------------------
    def send_messages(self, messages: Any) -> None:
        self.schedule_messages(messages, None)

    def schedule_messages(self, messages: Any, when: datetime | None) -> list[int]:
        self.sends += 1
        if self.fail_sends:
            self.fail_sends -= 1
            raise ConnectionError("amqp connection lost")
        for message in messages if isinstance(messages, list) else [messages]:
            self.sent.append(message)
            if message.message_id in self.seen_ids:
                continue  # the queue's duplicate detection
            self.seen_ids.add(message.message_id)
            data = b"".join(message.body)
            self.messages.append(
                Received(
                    message.message_id,
                    data,
                    dict(message.application_properties or {}),
                    visible_at=when,
                    correlation_id=message.correlation_id,
                )
            )
        return []

    # --- the receiver -------------------------------------------------------------------
    def receive_messages(
        self, max_message_count: int = 1, max_wait_time: float = 0
    ) -> list[Received]:
        now = datetime.now(UTC)
        received = []
        for message in self.messages:
            if len(received) >= max_message_count:
                break
            if not message.locked and (message.visible_at is None or message.visible_at <= now):
                message.locked = True
                message.delivery_count += 1
                received.append(message)
        return received

    def complete_message(self, message: Received) -> None:
        self.messages.remove(message)

    def dead_letter_message(
        self, message: Received, reason: str = "", error_description: str = ""
    ) -> None:
        self.messages.remove(message)
        self.dead_letters.append((message, reason, error_description))

    def close(self) -> None:
        return None

    # --- for tests ----------------------------------------------------------------------
    def expire_locks(self) -> None:
        for message in self.messages:
            message.locked = False

    def pending(self) -> list[str]:
        return [m.message_id for m in self.messages]
