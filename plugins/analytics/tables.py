"""The analytics plugin's tenant tables (in each tenant's own database).

``migrations/0001_analytics.py`` creates exactly these (a test compares them).

Aggregates, bucketed by the UTC hour the event happened in (``event.time``, not
when it was processed, so a rebuild lands every event where live processing did):

* ``analytics_session_hours``: per hour, sessions created and moves into each state
  (``waiting``, ``active``, ``ended``), and the outcomes of those that ended.
* ``analytics_agent_hours``: per hour and agent, sessions answered (moved to
  ``active`` with the agent), ended and resolved.
* ``analytics_run_hours``: per hour and path version, runs started and how they
  ended (``completed``, ``abandoned``, and per outcome).
* ``analytics_step_hours``: per hour, path version and step, the runs that got past
  the step (each run counted once per step) and their summed position in the run.
* ``analytics_relay_hours``: per hour and kind (``remote_control``, ``camera``),
  the seconds viewers were connected and the connections that ended.
* ``analytics_durations``: the raw durations (seconds) medians are computed from on
  read, exact: ``wait`` (waiting → active), ``handle`` (first active → ended),
  ``step`` (the time a run spent on a step). Small: one row per answer, per ended
  session, per step passed.

Working state, what the ETL remembers between events of one object:

* ``analytics_session_facts``: per session, its last state and since when.
* ``analytics_run_facts``: per run, its path version and when it last moved.
* ``analytics_run_steps``: the (run, step) pairs already counted.
* ``analytics_relay_open``: viewer connections open on the relay.
* ``analytics_processed_events``: the ids of the events applied, written in the
  same transaction as their effect: an event delivered twice counts once.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, String, Table

from guidepath.core.plugin_api import tenant_metadata

_ID = 80  # event, session, run, agent ids and such (evt_/ses_/run_/usr_/gp_ …)


def _count(name: str) -> Column:
    return Column(name, Integer, nullable=False, default=0)


analytics_processed_events = Table(
    "analytics_processed_events",
    tenant_metadata,
    Column("event_id", String(_ID), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)

analytics_session_hours = Table(
    "analytics_session_hours",
    tenant_metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    _count("created"),
    _count("waiting"),
    _count("active"),
    _count("ended"),
    _count("resolved"),
    _count("unresolved"),
    _count("abandoned"),
)

analytics_agent_hours = Table(
    "analytics_agent_hours",
    tenant_metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("agent_id", String(_ID), primary_key=True),
    _count("answered"),
    _count("ended"),
    _count("resolved"),
)

analytics_run_hours = Table(
    "analytics_run_hours",
    tenant_metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("path_id", String(_ID), primary_key=True),
    Column("version", Integer, primary_key=True),
    _count("started"),
    _count("completed"),
    _count("abandoned"),
    _count("resolved"),
    _count("unresolved"),
    _count("escalate"),
)

analytics_step_hours = Table(
    "analytics_step_hours",
    tenant_metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("path_id", String(_ID), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("step_id", String(_ID), primary_key=True),
    _count("reached"),
    _count("position_sum"),
)

analytics_relay_hours = Table(
    "analytics_relay_hours",
    tenant_metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("seconds", Float, nullable=False, default=0.0),
    _count("connections"),
)

analytics_durations = Table(
    "analytics_durations",
    tenant_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("kind", String(10), nullable=False),  # wait | handle | step
    Column("agent_id", String(_ID), nullable=True),
    Column("path_id", String(_ID), nullable=True),
    Column("version", Integer, nullable=True),
    Column("step_id", String(_ID), nullable=True),
    Column("seconds", Float, nullable=False),
    Index("ix_analytics_durations_kind_hour", "kind", "hour"),
)

analytics_session_facts = Table(
    "analytics_session_facts",
    tenant_metadata,
    Column("session_id", String(_ID), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("state_since", DateTime(timezone=True), nullable=False),
    Column("first_active_at", DateTime(timezone=True), nullable=True),
)

analytics_run_facts = Table(
    "analytics_run_facts",
    tenant_metadata,
    Column("run_id", String(_ID), primary_key=True),
    Column("path_id", String(_ID), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_moved_at", DateTime(timezone=True), nullable=False),
    Column("finished", Integer, nullable=False, default=0),
)

analytics_run_steps = Table(
    "analytics_run_steps",
    tenant_metadata,
    Column("run_id", String(_ID), primary_key=True),
    Column("step_id", String(_ID), primary_key=True),
)

analytics_relay_open = Table(
    "analytics_relay_open",
    tenant_metadata,
    Column("connection_id", String(_ID), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("connected_at", DateTime(timezone=True), nullable=False),
)

#: Every table, in the order a rebuild copies them.
TABLES = (
    analytics_processed_events, analytics_session_hours, analytics_agent_hours, analytics_run_hours,
    analytics_step_hours, analytics_relay_hours, analytics_durations, analytics_session_facts,
    analytics_run_facts, analytics_run_steps, analytics_relay_open,
)

__all__ = [t.name for t in TABLES] + ["TABLES"]
