"""The pure codec: frames, sealing, counters, stream decoding and payloads."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidepath.relay.protocol import (
    Channel,
    Close,
    CloseCode,
    DeviceInfo,
    Direction,
    FrameOpener,
    FrameSealer,
    FrameType,
    Hello,
    ImageFormat,
    ImageFrame,
    InputEvent,
    ProtocolError,
    StreamDecoder,
    check_from_client,
    decode_frames,
    decode_message,
    encode_plain,
)
from guidepath.relay.protocol.frames import HEADER_SIZE, MAX_MESSAGE_BYTES, MAX_PAYLOAD_BYTES, pack_header

KEY = os.urandom(32)


def pair(direction: Direction = Direction.DEVICE_TO_RELAY, **kw) -> tuple[FrameSealer, FrameOpener]:
    return FrameSealer(KEY, direction), FrameOpener(KEY, direction, **kw)


def code_of(excinfo) -> CloseCode:
    return excinfo.value.code


def test_round_trip_every_sealed_type_keeps_order_and_bytes():
    sealer, opener = pair()
    payloads = [(FrameType.SCREEN, ImageFrame.whole(ImageFormat.PNG, 4, 4, b"png").encode()),
                (FrameType.DEVICE_INFO, DeviceInfo(model="X").encode()),
                (FrameType.CLIPBOARD, "é✓".encode()), (FrameType.PING, bytes(8)),
                (FrameType.CLOSE, Close(1000, "bye").encode())]
    for i, (frame_type, payload) in enumerate(payloads):
        frame = opener.open_message(sealer.seal(frame_type, payload))
        assert (frame.type, frame.counter, frame.payload) == (frame_type, i, payload)


def test_ciphertext_does_not_contain_the_plaintext_and_header_is_aad():
    sealer, opener = pair()
    wire = sealer.seal(FrameType.CLIPBOARD, b"secret clipboard text")
    assert b"secret" not in wire
    changed = bytearray(wire)
    changed[1] = FrameType.DEVICE_INFO  # same length, other type: the header is authenticated
    with pytest.raises(ProtocolError) as exc:
        opener.open_message(bytes(changed))
    assert code_of(exc) is CloseCode.AUTHENTICATION_FAILED


@pytest.mark.parametrize("position", [HEADER_SIZE, -1, -17])
def test_tampered_frame_is_refused(position):
    sealer, opener = pair()
    wire = bytearray(sealer.seal(FrameType.PING, bytes(8)))
    wire[position] ^= 0x40
    with pytest.raises(ProtocolError) as exc:
        opener.open_message(bytes(wire))
    assert code_of(exc) is CloseCode.AUTHENTICATION_FAILED
    assert opener.expected_counter == 0  # a forgery does not advance the counter


def test_replayed_and_reordered_frames_are_refused():
    sealer, opener = pair()
    first, second, third = (sealer.seal(FrameType.PING, bytes(8)) for _ in range(3))
    opener.open_message(first)
    with pytest.raises(ProtocolError) as exc:
        opener.open_message(first)  # replay
    assert code_of(exc) is CloseCode.OUT_OF_ORDER
    with pytest.raises(ProtocolError) as exc:
        opener.open_message(third)  # skips ahead
    assert code_of(exc) is CloseCode.OUT_OF_ORDER
    assert opener.open_message(second).counter == 1


def test_wrong_direction_key_is_refused():
    wire = FrameSealer(KEY, Direction.DEVICE_TO_RELAY).seal(FrameType.PING, bytes(8))
    for direction in (Direction.RELAY_TO_DEVICE, Direction.VIEWER_TO_RELAY):
        with pytest.raises(ProtocolError) as exc:
            FrameOpener(KEY, direction).open_message(wire)
        assert code_of(exc) is CloseCode.AUTHENTICATION_FAILED


def test_directions_use_distinct_keys_so_the_same_counter_never_repeats_a_key_nonce_pair():
    client, relay = Channel.client("device", KEY), Channel.relay("device", KEY)
    up = client.seal(FrameType.PING, bytes(8))
    down = relay.seal(FrameType.PING, bytes(8))
    assert up[:HEADER_SIZE] == down[:HEADER_SIZE] and up != down
    assert relay.open(decode_message(up)).payload == bytes(8)
    assert client.open(decode_message(down)).payload == bytes(8)


def test_oversized_unknown_type_bad_version_and_flags():
    decoder = StreamDecoder()
    with pytest.raises(ProtocolError) as exc:
        decoder.feed(pack_header(FrameType.SCREEN, 0, MAX_PAYLOAD_BYTES + 1))
    assert code_of(exc) is CloseCode.TOO_LARGE
    with pytest.raises(ProtocolError):  # broken for good
        decoder.feed(b"")
    small = StreamDecoder(max_payload=1024)
    with pytest.raises(ProtocolError) as exc:
        small.feed(pack_header(FrameType.SCREEN, 0, 1025))
    assert code_of(exc) is CloseCode.TOO_LARGE
    with pytest.raises(ProtocolError) as exc:
        StreamDecoder().feed(pack_header(0x7E, 0, 16))
    assert code_of(exc) is CloseCode.UNKNOWN_TYPE
    with pytest.raises(ProtocolError) as exc:
        StreamDecoder().feed(b"\x02" + pack_header(FrameType.PING, 0, 24)[1:])
    assert code_of(exc) is CloseCode.BAD_FRAME
    with pytest.raises(ProtocolError) as exc:
        StreamDecoder().feed(pack_header(FrameType.PING, 0, 24, flags=1))
    assert code_of(exc) is CloseCode.BAD_FRAME
    with pytest.raises(ProtocolError) as exc:
        StreamDecoder().feed(encode_plain(FrameType.HELLO, b"x")[:4] + b"\x00" * 8 + (9000).to_bytes(4, "big"))
    assert code_of(exc) is CloseCode.TOO_LARGE  # plain messages have an 8 KiB cap


def test_opener_cap_applies_after_decoding_too():
    sealer = FrameSealer(KEY, Direction.DEVICE_TO_RELAY)
    opener = FrameOpener(KEY, Direction.DEVICE_TO_RELAY, max_payload=100)
    with pytest.raises(ProtocolError) as exc:
        opener.open(decode_message(sealer.seal(FrameType.CLIPBOARD, b"x" * 200)))
    assert code_of(exc) is CloseCode.TOO_LARGE


def test_a_websocket_message_carries_one_or_more_whole_frames():
    sealer, opener = pair()
    payloads = [b"one", b"", b"three" * 100]
    message = bytes(sealer.seal_many([(FrameType.CLIPBOARD, p) for p in payloads]))
    assert [opener.open(f).payload for f in decode_frames(message)] == payloads
    # The same bytes are what the TCP leg carries: one format, two transports.
    assert [f.counter for f in StreamDecoder().feed(message)] == [0, 1, 2]


@pytest.mark.parametrize(
    "cut, expected",
    [
        pytest.param(-1, "ends inside a frame:", id="last frame short by a byte"),
        pytest.param(-(16 + 10 + HEADER_SIZE // 2), "ends inside a frame header", id="half a header at the end"),
    ],
)
def test_a_message_ending_inside_a_frame_is_refused(cut, expected):
    sealer, _ = pair()
    message = bytes(sealer.seal_many([(FrameType.CLIPBOARD, b"a" * 20), (FrameType.CLIPBOARD, b"b" * 10)]))
    with pytest.raises(ProtocolError) as exc:
        decode_frames(message[:cut])
    assert code_of(exc) is CloseCode.BAD_FRAME and expected in exc.value.message


def test_plain_frames_travel_alone_and_messages_are_capped():
    sealer, _ = pair()
    hello = encode_plain(FrameType.HELLO, b"ticket")
    assert decode_frames(hello)[0].payload == b"ticket"
    with pytest.raises(ProtocolError) as exc:
        decode_frames(hello + bytes(sealer.seal(FrameType.PING, bytes(8))))
    assert code_of(exc) is CloseCode.BAD_FRAME and "alone" in exc.value.message
    with pytest.raises(ProtocolError) as exc:
        decode_message(bytes(sealer.seal_many([(FrameType.PING, bytes(8))] * 2)))
    assert code_of(exc) is CloseCode.BAD_FRAME  # the handshake's HELLO: exactly one frame
    with pytest.raises(ProtocolError) as exc:
        decode_frames(bytes(MAX_MESSAGE_BYTES + 1))
    assert code_of(exc) is CloseCode.TOO_LARGE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=8), st.data())
def test_stream_decoder_reassembles_frames_split_anywhere(payloads, data):
    sealer, opener = pair()
    wire = b"".join(sealer.seal(FrameType.CLIPBOARD, p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    decoder, frames, start = StreamDecoder(), [], 0
    for cut in [*cuts, len(wire)]:
        frames += decoder.feed(wire[start:cut])
        start = cut
    assert [opener.open(f).payload for f in frames] == payloads
    decoder.eof()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.integers(1, 64))
def test_decoder_fuzz_only_ever_raises_protocol_error(garbage, step):
    decoder, opener = StreamDecoder(max_payload=4096), FrameOpener(KEY, Direction.DEVICE_TO_RELAY, max_payload=4096)
    try:
        for i in range(0, len(garbage), step):
            for frame in decoder.feed(garbage[i : i + step]):
                check_from_client(opener.open(frame), "device", "remote_control")
    except ProtocolError as exc:
        assert isinstance(exc.code, CloseCode)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_payload_decoders_fuzz(raw):
    from guidepath.relay.protocol import validate_payload
    from guidepath.relay.protocol.frames import Frame

    for frame_type in FrameType:
        try:
            validate_payload(Frame(frame_type, 0, raw))
        except ProtocolError as exc:
            assert exc.code is CloseCode.INVALID_PAYLOAD


# -- payloads ---------------------------------------------------------------------------


def test_image_frames_region_and_validation():
    frame = ImageFrame(ImageFormat.RAW_RGBA, 1, 1, 2, 1, 4, 4, bytes(8))
    assert ImageFrame.decode(frame.encode()) == frame and not frame.full
    assert ImageFrame.whole(ImageFormat.JPEG, 3, 2, b"j").full
    bad = [
        ImageFrame(ImageFormat.RAW_RGBA, 0, 0, 2, 2, 4, 4, bytes(15)),  # wrong raw size
        ImageFrame(ImageFormat.PNG, 3, 0, 2, 2, 4, 4, b"p"),  # outside the display
        ImageFrame(ImageFormat.PNG, 0, 0, 0, 2, 4, 4, b"p"),  # empty region
        ImageFrame(ImageFormat.PNG, 0, 0, 4, 4, 4, 4, b""),  # no data
    ]
    for frame in bad:
        with pytest.raises(ProtocolError):
            frame.encode()
    with pytest.raises(ProtocolError):
        ImageFrame.decode(b"\x09" + bytes(13) + b"x")  # unknown format


def test_input_events_round_trip_and_refuse_junk():
    events = [InputEvent("pointer_move", x=1, y=2), InputEvent("pointer_up", x=0, y=0, button=2),
              InputEvent("key_up", key="Enter", code="Enter", modifiers=("ctrl", "alt")),
              InputEvent("scroll", x=5, y=5, dx=-120, dy=0), InputEvent("touch", x=3, y=4, id=1, phase="move")]
    for event in events:
        assert InputEvent.decode(event.encode()) == event
    for junk in [b'{"type":"pointer_move","x":1}', b'{"type":"pointer_move","x":1,"y":2,"z":3}',
                 b'{"type":"pointer_move","x":-1,"y":2}', b'{"type":"pointer_down","x":1,"y":2,"button":9}',
                 b'{"type":"key_down","key":"a","code":"KeyA","modifiers":["hyper"]}',
                 b'{"type":"pointer_move","x":1.5,"y":2}', b'{"type":"teleport"}', b"[1]", b"\xff",
                 b'{"type":"pointer_move","x":true,"y":2}', b"{" * 5000]:
        with pytest.raises(ProtocolError) as exc:
            InputEvent.decode(junk)
        assert exc.value.code is CloseCode.INVALID_PAYLOAD


def test_device_info_fields_and_hello():
    info = DeviceInfo("ACME", "A", "M1", "Android", "14", 2**32, "arm", "phone", "SN1", {"battery": 80})
    assert DeviceInfo.decode(info.encode()) == info
    with pytest.raises(ProtocolError):
        DeviceInfo.decode(b'{"model": 5}')
    with pytest.raises(ProtocolError):
        DeviceInfo.decode(b'{"password": "x"}')
    hello = Hello(role="viewer", ticket="abc")
    assert Hello.decode(hello.encode()) == hello
    with pytest.raises(ProtocolError) as exc:
        Hello.decode(b'{"role":"admin","ticket":"x","protocol":1}')
    assert exc.value.code is CloseCode.HELLO_EXPECTED


def test_direction_rules():
    from guidepath.relay.protocol.frames import Frame

    def frame(t, payload=b""):
        return Frame(t, 0, payload)

    screen = frame(FrameType.SCREEN, ImageFrame.whole(ImageFormat.PNG, 2, 2, b"p").encode())
    check_from_client(screen, "device", "remote_control")
    for role, kind, f in [("viewer", "remote_control", screen), ("device", "camera", screen),
                          ("device", "remote_control", frame(FrameType.INPUT, InputEvent("pointer_move", x=1, y=1).encode())),
                          ("viewer", "camera", frame(FrameType.INPUT, InputEvent("pointer_move", x=1, y=1).encode())),
                          ("device", "remote_control", frame(FrameType.ACK))]:
        with pytest.raises(ProtocolError) as exc:
            check_from_client(f, role, kind)
        assert exc.value.code is CloseCode.NOT_ALLOWED
