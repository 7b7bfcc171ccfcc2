"""kafka-python, imported in one place, and closing its clients quietly.

kafka-python 3.0 loads its protocol schemas with ``importlib.resources.read_text``,
deprecated since Python 3.11: it is imported here with that warning silenced, so
strict test runs (warnings as errors) do not fail on it, and every module of this
package takes kafka-python's names from here.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import NewTopic
    from kafka.errors import (
        CommitFailedError,
        IllegalGenerationError,
        RebalanceInProgressError,
        UnknownMemberIdError,
    )
    from kafka.partitioner import Partitioner
    from kafka.structs import OffsetAndMetadata, TopicPartition

log = logging.getLogger("guidepath.events")

__all__ = [
    "CommitFailedError", "IllegalGenerationError", "KafkaAdminClient", "KafkaConsumer", "KafkaProducer",
    "NewTopic", "OffsetAndMetadata", "Partitioner", "RebalanceInProgressError", "TopicPartition",
    "UnknownMemberIdError", "close_quietly",
]


def close_quietly(client: Any, **kwargs: Any) -> None:
    """Close a kafka-python client; its errors are logged, never raised (best effort)."""
    try:
        client.close(**kwargs)
    except Exception as exc:  # noqa: BLE001 - closing is best effort
        log.debug("error closing %s: %s", type(client).__name__, exc)
