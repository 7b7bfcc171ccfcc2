"""Every knob of the Kafka bus (:class:`KafkaSettings`) and its partitioner."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Any

from .bus import DEFAULT_MAX_ATTEMPTS
from .kafka_client import Partitioner


class EventIdPartitioner(Partitioner):
    """Places a record by the CRC-32 of its key (the event id), computed in C.

    kafka-python's default partitioner runs the Java client's murmur2 in pure
    Python — a fifth of the producer's CPU time per message in our benchmark.
    Matching the Java client's placement buys nothing here: every key is a unique
    event id. Placement is still deterministic per key.
    """

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):  # noqa: ANN001, ANN201
        partitions = cluster.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f"topic {topic} not found in the cluster metadata")
        if len(partitions) == 1:
            return next(iter(partitions))
        ordered = sorted(partitions)
        if serialized_key is None:
            return random.choice(ordered)
        return ordered[zlib.crc32(serialized_key) % len(ordered)]



@dataclass(frozen=True)
class KafkaSettings:
    """Every knob of :class:`KafkaBus`, with production defaults.

    Tests against Tansu shrink the consumer timeouts: Tansu completes a group join
    only after about half the session timeout, so ``session_timeout_ms=2000`` joins
    in about a second.
    """

    client_id: str = "guidepath"

    # -- producing ---------------------------------------------------------------
    #: Idempotent producer: the broker drops duplicates caused by producer retries.
    idempotence: bool = True
    #: Bound on one publish_many: time for the broker to acknowledge the batch.
    publish_timeout_ms: int = 15_000
    #: How long send() may block waiting for metadata or buffer space.
    max_block_ms: int = 5_000
    request_timeout_ms: int = 5_000
    #: How long constructing a client may wait to reach any bootstrap server.
    bootstrap_timeout_ms: int = 5_000
    reconnect_backoff_max_ms: int = 1_000
    linger_ms: int = 5
    batch_size: int = 256 * 1024
    compression_type: str | None = None
    #: A producer that has sent to more topics than this is replaced after its
    #: batch is acknowledged. kafka-python's producer keeps a queue per partition
    #: it ever sent to and scans every one on each pass of its sender thread, so
    #: with thousands of tenants one publish cost milliseconds of CPU and the
    #: sender thread never rested. A new producer costs one connection and one
    #: metadata request, paid once per this many distinct topics.
    producer_max_topics: int = 256

    # -- topics ------------------------------------------------------------------
    #: One partition keeps a tenant stream in outbox order; more spread the load.
    partitions: int = 1
    replication_factor: int = 1

    # -- consuming ---------------------------------------------------------------
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    #: How long one poll() may block: bounds close() latency. Joins that take
    #: longer span several polls (see _rescue_orphaned_join).
    poll_timeout_ms: int = 1_000
    max_poll_records: int = 500
    #: How long the broker may hold a fetch that has no data yet. Apache Kafka
    #: answers as soon as a record arrives, but a broker that answers only when the
    #: wait runs out (Tansu does) adds up to this much to every event on its way to
    #: an agent's screen; kafka-python's 500 ms default made a state change take
    #: 113 ms p50 / 269 ms p95 to reach another node's socket, 100 ms keeps it well
    #: inside the console's 300 ms (``make bench-console``) for ten idle fetches a
    #: second per consumer.
    fetch_max_wait_ms: int = 100
    #: How soon a pattern subscription notices a newly created topic.
    metadata_max_age_ms: int = 30_000
    #: A group must not miss events of a topic created after it subscribed.
    auto_offset_reset: str = "earliest"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_backoff_ms: int = 200

    def __post_init__(self) -> None:
        if self.publish_timeout_ms < self.linger_ms + self.request_timeout_ms:
            raise ValueError("publish_timeout_ms must be at least linger_ms + request_timeout_ms")
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be below session_timeout_ms")
        if self.producer_max_topics < 1:
            raise ValueError("producer_max_topics must be at least 1")

    def producer_config(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "acks": "all",
            "enable_idempotence": self.idempotence,
            "delivery_timeout_ms": self.publish_timeout_ms,
            "max_block_ms": self.max_block_ms,
            "request_timeout_ms": self.request_timeout_ms,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_size,
            "compression_type": self.compression_type,
            "partitioner": EventIdPartitioner(),
        }

    def admin_config(self) -> dict[str, Any]:
        return {
            "client_id": f"{self.client_id}-admin",
            "request_timeout_ms": self.request_timeout_ms,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
        }

    def consumer_config(self, group: str) -> dict[str, Any]:
        return {
            "client_id": f"{self.client_id}-{group}",
            "group_id": group,
            "enable_auto_commit": False,
            "auto_offset_reset": self.auto_offset_reset,
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "max_poll_interval_ms": self.max_poll_interval_ms,
            "max_poll_records": self.max_poll_records,
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
            "metadata_max_age_ms": self.metadata_max_age_ms,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
        }

