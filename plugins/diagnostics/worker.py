"""The worker that stores what devices report over the relay.

The relay cannot write to a tenant's database; it reports each DEVICE_INFO frame
(``device_info`` reports, see ``relay/reports.py``) and this worker stores it on
the session's device like an HTTPS report, with the same validation.
"""

from __future__ import annotations

import logging
from typing import Any

from guidepath.core.plugin_api import DomainError
from guidepath.relay.hosting import ReportConsumer, hosting_for
from guidepath.relay.reports import Report

from . import store

log = logging.getLogger("guidepath.plugins.diagnostics")

NAME = "diagnostics"


def store_device_report(kernel: Any, report: Report) -> None:
    """Store one ``device_info`` report; other reports are not ours.

    A report that fails validation, or whose session has ended or is gone, is
    logged and dropped: retrying would not make it valid.
    """
    if report.type != "device_info" or report.device_info is None:
        return
    tenant = kernel.directory.get(report.tenant_id)
    if tenant is None or not tenant.active:
        return
    ctx = kernel.context(tenant)
    if not ctx.plugin_enabled(NAME):
        return
    # A device leaves out (None) what it could not read; that must not erase a value.
    info = {k: v for k, v in report.device_info.items() if v is not None and v != {}}
    if not info:
        return
    try:
        with ctx.begin() as conn:
            store.record(ctx, conn, report.session_id, info, source="device")
    except DomainError as exc:
        log.warning("device report refused: %s", exc.message,
                    extra={"tenant_id": report.tenant_id, "session_id": report.session_id, "field": exc.field})


def device_reports(kernel: Any) -> ReportConsumer:
    """The plugin's worker: reads every relay report, stores the devices' ones."""
    return ReportConsumer(hosting_for(kernel).reports_for(NAME), lambda r: store_device_report(kernel, r),
                          name=NAME)
