"""A consumer-group member of the Kafka bus: a ``KafkaConsumer`` polled by its own thread.

Subscribed by pattern, with auto-commit off: offsets are committed only after the
handler succeeded (or gave up on a dead letter), so delivery is at-least-once.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from .bus import Handler
from .delivery import Deliverer, decode
from .kafka_client import (
    CommitFailedError,
    IllegalGenerationError,
    KafkaConsumer,
    OffsetAndMetadata,
    RebalanceInProgressError,
    TopicPartition,
    UnknownMemberIdError,
    close_quietly,
)

if TYPE_CHECKING:  # pragma: no cover
    from .kafka_bus import KafkaBus

log = logging.getLogger("guidepath.events")


class KafkaSubscription:
    """One consumer-group member: a ``KafkaConsumer`` polled by its own thread.

    The consumer is created inside the thread and re-created after errors, so a
    subscription made while the broker is down starts consuming once it is back.
    """

    def __init__(self, bus: KafkaBus, pattern: str, group: str, handler: Handler) -> None:
        self.pattern = pattern
        self.group = group
        self._bus = bus
        self._settings = bus.settings
        self._deliverer = Deliverer(handler, group, self._settings.max_attempts)
        self._attempts: dict[tuple[str, int, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"guidepath-kafka-{group}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float | None = None) -> None:
        """Stop after the message in hand, commit what was handled and leave the group."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            limit = timeout if timeout is not None else self._settings.poll_timeout_ms / 1000 + 10
            self._thread.join(limit)
        self._bus._forget(self)

    # -- the worker thread -------------------------------------------------------

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        backoff = 0.2
        try:
            while not self._stop.is_set():
                if consumer is None:
                    try:
                        consumer = KafkaConsumer(
                            bootstrap_servers=self._bus.bootstrap, **self._settings.consumer_config(self.group)
                        )
                        consumer.subscribe(pattern=self.pattern)
                        backoff = 0.2
                    except Exception as exc:  # noqa: BLE001 - keep trying until closed
                        log.warning("cannot start consumer for group %s (%s); retrying in %.1fs",
                                    self.group, exc, backoff)
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, 5.0)
                        continue
                try:
                    self._poll_once(consumer)
                except Exception as exc:  # noqa: BLE001 - reconnect instead of dying
                    log.warning("consumer for group %s failed (%s); reconnecting", self.group, exc)
                    close_quietly(consumer)
                    consumer = None
                    self._stop.wait(backoff)
        finally:
            if consumer is not None:
                close_quietly(consumer)

    def _poll_once(self, consumer: KafkaConsumer) -> None:
        batch = consumer.poll(timeout_ms=self._settings.poll_timeout_ms,
                              max_records=self._settings.max_poll_records)
        _rescue_orphaned_join(consumer)
        handled: dict[TopicPartition, OffsetAndMetadata] = {}
        for partition, records in batch.items():
            for record in records:
                if self._stop.is_set():
                    break
                attempt = self._attempt_number(record)
                if not self._handle(record, attempt):
                    consumer.seek(partition, record.offset)  # the same record comes again
                    self._stop.wait(self._retry_delay(attempt))
                    break
                handled[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
        if handled:
            try:
                consumer.commit(handled)
            except (CommitFailedError, RebalanceInProgressError, IllegalGenerationError,
                    UnknownMemberIdError) as exc:
                # The group rebalanced under us: these records will be delivered again,
                # and the next poll() finishes the rebalance. (kafka-python 3 raises
                # RebalanceInProgressError, not a CommitFailedError, for a commit that
                # lands mid-rebalance; letting it escape rebuilt the whole consumer
                # and forced yet another rebalance.)
                log.warning("commit failed for group %s (%s); records will be redelivered", self.group, exc)

    def _attempt_number(self, record: Any) -> int:
        if len(self._attempts) > 10_000:  # entries of partitions we lost in a rebalance
            self._attempts.clear()
        return self._attempts.get((record.topic, record.partition, record.offset), 0) + 1

    def _handle(self, record: Any, attempt: int) -> bool:
        key = (record.topic, record.partition, record.offset)
        event = decode(record.topic, record.value, self.group)
        if event is None or self._deliverer.deliver(record.topic, event, attempt):
            self._attempts.pop(key, None)
            return True
        self._attempts[key] = attempt
        return False

    def _retry_delay(self, attempt: int) -> float:
        ceiling = min(5.0, self._settings.max_poll_interval_ms / 4000)
        return min(self._settings.retry_backoff_ms / 1000 * 2 ** (attempt - 1), ceiling)



def _rescue_orphaned_join(consumer: KafkaConsumer) -> None:
    """Work around a kafka-python 3.0 bug that leaves a pattern consumer with no partitions.

    When a new topic matches the pattern, the consumer rejoins its group. If that
    join outlasts one poll() (Tansu answers JoinGroup after about half the session
    timeout, Apache Kafka delays a group's first join by 3 s), the next poll() no
    longer sees a reason to rejoin — the subscription was recorded when JoinGroup
    was sent, and the coordinator's own rejoin flag was never raised — so nobody
    awaits the in-flight join again, its assignment is dropped, and the member
    consumes nothing, forever. Raising the flag while a join is pending makes the
    next poll() pick the join up again (or redo it). Private attributes, hence
    the defensive lookups: on a client without them this does nothing.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None:
        return
    if getattr(coordinator, "_join_task", None) is not None and not getattr(coordinator, "rejoin_needed", True):
        coordinator.request_rejoin()
