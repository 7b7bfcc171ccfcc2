"""Recordings: streamed into the tenant's encrypted file store, read back intact."""

from __future__ import annotations

import os

from relay_helpers import TENANT_A, run
from test_relay_server import device, next_of, numbered, viewer

from guidepath.core.files import FileStore
from guidepath.relay.protocol import FrameType, InputEvent
from guidepath.relay.recording import SOURCE_DEVICE, SOURCE_VIEWER, RecordingReader, RecordingWriter
from guidepath.relay.tickets import RecordingGrant


def test_writer_reader_round_trip_and_seek(tmp_path):
    files = FileStore(tmp_path).for_tenant(TENANT_A, os.urandom(32))
    writer = RecordingWriter(files, {"tenant_id": TENANT_A, "session_id": "s"}, file_name="r.gprec")
    writer.start()
    payloads = [os.urandom(100) + b"PLAINTEXT-MARKER" for _ in range(50)]
    for p in payloads:
        writer.write(SOURCE_DEVICE, FrameType.SCREEN, p)
    saved = writer.finish().result(timeout=10)
    reader = RecordingReader(files.open(saved.info.id))
    assert reader.header["session_id"] == "s"
    records = list(reader.records())
    assert [r.payload for r in records] == payloads
    assert [r.t for r in records] == sorted(r.t for r in records)
    later = list(RecordingReader(files.open(saved.info.id)).records(start_at=records[25].t))
    assert later[0].t >= records[25].t and later[-1].payload == payloads[-1]
    stored = b"".join(p.read_bytes() for p in (tmp_path / TENANT_A).iterdir())
    assert b"PLAINTEXT-MARKER" not in stored


def test_relay_records_a_session_into_the_tenant_file_store(relay, tickets, master_key, file_store, reports):
    data_key = os.urandom(32)
    grant = RecordingGrant(wrapped_data_key=master_key.wrap(data_key, TENANT_A), file_name="support.gprec")
    sent = [numbered(i, 3000) for i in range(10)]
    event = InputEvent("pointer_move", x=3, y=4).encode()

    async def scenario():
        dev = await device(relay, tickets("device", recording=grant))
        view = await viewer(relay, tickets("viewer"))
        for payload in sent:
            await dev.send(FrameType.SCREEN, payload)
            await next_of(view, FrameType.SCREEN)  # paced: nothing dropped
        await view.send(FrameType.INPUT, event)
        await next_of(dev, FrameType.INPUT)
        await dev.close()
        await view.abort()

    run(scenario())
    saved = None
    for _ in range(50):
        saved = next((r for _, r in reports.read(100, block_ms=100) if r.type == "recording_saved"), saved)
        if saved:
            break
    assert saved is not None and saved.tenant_id == TENANT_A and saved.session_id == "ses_1"
    assert saved.size > 30_000 and saved.duration_seconds >= 0 and saved.file_name == "support.gprec"
    files = file_store.for_tenant(TENANT_A, data_key)
    records = list(RecordingReader(files.open(saved.file_id)).records())
    screens = [r.payload for r in records if r.type is FrameType.SCREEN]
    assert screens == sent  # byte-identical, in order
    assert [(r.source, r.payload) for r in records if r.type is FrameType.INPUT] == [(SOURCE_VIEWER, event)]
    raw = b"".join(p.read_bytes() for p in file_store.container_path(TENANT_A).iterdir())
    assert sent[3] not in raw





def test_seeking_to_a_records_own_time_starts_at_that_record(tmp_path, monkeypatch):
    """A record's time read back (microseconds / 1e6) is a float that, times 1e6, can
    fall just below its own microsecond; seeking to it must not return the one before
    (CI once failed at t=0.000493: int(492.99999999999994) == 492). The recording's
    clock is stepped one microsecond per frame so every microsecond is present."""
    import time
    from types import SimpleNamespace

    from guidepath.relay import recording

    # Half a microsecond past each one, so the writer stores exactly 1, 2, … 1000.
    ticks = iter([0.0, 0.0] + [(us + 0.5) / 1_000_000 for us in range(1, 1001)])
    monkeypatch.setattr(recording, "time", SimpleNamespace(monotonic=lambda: next(ticks), time=time.time))
    files = FileStore(tmp_path).for_tenant(TENANT_A, os.urandom(32))
    writer = RecordingWriter(files, {"tenant_id": TENANT_A, "session_id": "s"}, file_name="r.gprec")
    writer.start()
    for i in range(1000):
        writer.write(SOURCE_DEVICE, FrameType.SCREEN, i.to_bytes(2, "big"))
    saved = writer.finish().result(timeout=10)
    records = list(RecordingReader(files.open(saved.info.id)).records())
    assert [round(r.t * 1_000_000) for r in records] == list(range(1, 1001))
    for record in records:
        first = next(RecordingReader(files.open(saved.info.id)).records(start_at=record.t))
        assert first.t == record.t, (first.t, record.t)
