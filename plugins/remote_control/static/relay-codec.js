// The viewer side of the guidepath relay protocol, version 1 (docs/relay-protocol.md),
// with WebCrypto only: HKDF-SHA256 per-direction subkeys, AES-256-GCM with the 16-byte
// header as associated data, counter nonces, strictly increasing counters, size caps,
// and the payload codecs of every frame type a viewer sends or receives.
//
// No IO: the caller owns the WebSocket. A ViewerChannel turns bytes into frames and
// frames into bytes, in order:
//
//   const channel = await ViewerChannel.create(decodeKey(grant.key));
//   ws.send(channel.hello(grant.ticket));
//   ws.onmessage = async (m) => {
//     for (const frame of await channel.receive(new Uint8Array(m.data))) { // ACK first, then the rest
//       ...  // a message holds one or more frames
//     }
//   };
//   ws.send(await channel.seal(FrameType.INPUT, encodeInput({ type: "pointer_move", x, y })));
//
// Every refusal throws a ProtocolError carrying the close code the protocol names for it
// (4001 bad frame, 4002 authentication failed, 4003 out of order, …), so the caller can
// send CLOSE with that code and show describeClose(code) to a person.
// Works in browsers and in Node >= 20 (globalThis.crypto.subtle). Checked against
// relay/protocol/vectors.json by sdk_js/test/relay-codec.test.js.

export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 16;
export const TAG_SIZE = 16;
export const NONCE_SIZE = 12;
/** Hard cap on a sealed payload; a ticket may lower it (ACK limits.max_frame_bytes). */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
/** Cap on plain frames (HELLO, REFUSE), which arrive before any ticket limit. */
export const MAX_PLAIN_BYTES = 8 * 1024;
/** A WebSocket message holds whole frames and is never longer than the largest frame. */
export const MAX_MESSAGE_BYTES = HEADER_SIZE + MAX_PAYLOAD_BYTES;
export const MAX_COUNTER = (1n << 64n) - 1n;
export const MAX_INPUT_BYTES = 1024;
export const MAX_CLIPBOARD_BYTES = 1024 * 1024;
export const MAX_DEVICE_INFO_BYTES = 64 * 1024;
export const MAX_CLOSE_REASON_BYTES = 123;
export const IMAGE_HEADER_SIZE = 14;

export const FrameType = Object.freeze({
  HELLO: 0x01,
  ACK: 0x02,
  REFUSE: 0x03,
  SCREEN: 0x10,
  CAMERA: 0x11,
  REFRESH: 0x12,
  INPUT: 0x20,
  CLIPBOARD: 0x21,
  DEVICE_INFO: 0x30,
  PEER_STATUS: 0x31,
  PING: 0x40,
  PONG: 0x41,
  CLOSE: 0x50,
});

const TYPE_NAMES = new Map(Object.entries(FrameType).map(([name, code]) => [code, name]));
const PLAIN_TYPES = new Set([FrameType.HELLO, FrameType.REFUSE]);

/** The name of a frame type code ("SCREEN"), or a hex spelling for unknown codes. */
export function frameTypeName(code) {
  return TYPE_NAMES.get(code) || `0x${code.toString(16).padStart(2, "0")}`;
}

export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INTERNAL_ERROR: 1011,
  BAD_FRAME: 4001,
  AUTHENTICATION_FAILED: 4002,
  OUT_OF_ORDER: 4003,
  TOO_LARGE: 4004,
  UNKNOWN_TYPE: 4005,
  NOT_ALLOWED: 4006,
  INVALID_PAYLOAD: 4007,
  HELLO_EXPECTED: 4008,
  TICKET_INVALID: 4010,
  TICKET_EXPIRED: 4011,
  TICKET_WRONG_RELAY: 4012,
  TICKET_USED: 4013,
  TICKET_WRONG_ROLE: 4014,
  IDLE_TIMEOUT: 4020,
  REPLACED: 4021,
  DEVICE_GONE: 4022,
  RATE_LIMITED: 4023,
  SLOW_CONSUMER: 4024,
});

// What a person should read for each code, and whether a new ticket may help.
const CLOSE_TEXT = {
  1000: ["The session ended.", false],
  1001: ["The connection to the relay was lost.", true],
  1005: ["The connection to the relay closed.", true],
  1006: ["The connection to the relay was lost.", true],
  1011: ["The relay had an internal error.", true],
  4001: ["The relay received a malformed frame.", false],
  4002: ["A frame failed authentication (wrong key or modified on the way).", false],
  4003: ["Frames arrived out of order or were replayed.", false],
  4004: ["A frame or the device's screen was larger than allowed.", false],
  4005: ["A frame of an unknown type arrived.", false],
  4006: ["A frame that is not allowed here arrived.", false],
  4007: ["A frame carried an invalid payload.", false],
  4008: ["The relay expected a hello first.", false],
  4010: ["The relay did not accept the ticket.", true],
  4011: ["The ticket expired before it was used.", true],
  4012: ["The ticket was for another relay.", true],
  4013: ["The ticket had already been used.", true],
  4014: ["The ticket was for another role.", false],
  4020: ["Nothing was received for too long.", true],
  4021: ["A newer connection of the device took over.", false],
  4022: ["The device did not come back in time.", false],
  4023: ["Too many frames were sent.", false],
  4024: ["The connection did not keep up with the session (it stopped reading or fell too far behind).", true],
};

/**
 * A readable explanation of a close or refusal code: {code, name, message, retry}.
 * `retry` says whether asking for a new ticket and connecting again may help.
 */
export function describeClose(code, reason = "") {
  const name = Object.keys(CloseCode).find((key) => CloseCode[key] === code) || String(code);
  const [text, retry] = CLOSE_TEXT[code] || [`The connection closed (code ${code}).`, false];
  const detail = reason ? ` (${reason})` : "";
  return { code, name, message: `${text}${detail}`, retry };
}

/** The peer broke the protocol; close the connection with `code`. */
export class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/** The relay refused the hello with a plain REFUSE frame. */
export class RelayRefused extends Error {
  constructor(code, reason) {
    super(`relay refused the connection (${code}): ${reason}`);
    this.name = "RelayRefused";
    this.code = code;
    this.reason = reason;
  }
}

function fail(code, message) {
  throw new ProtocolError(code, message);
}

function invalid(message) {
  fail(CloseCode.INVALID_PAYLOAD, message);
}

// -- bytes, text, base64 ------------------------------------------------------------------

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A Uint8Array view of an ArrayBuffer, typed array or DataView (no copy). */
export function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("expected bytes (ArrayBuffer or a typed array)");
}

function utf8(bytes, what, code = CloseCode.INVALID_PAYLOAD) {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return fail(code, `${what} is not valid UTF-8`);
  }
}

/** Decode a ticket key: base64url (as the API sends it) or base64, padded or not. */
export function decodeKey(text) {
  const normal = String(text).trim().replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normal)) throw new TypeError("the key is not base64");
  const padded = normal.replace(/=+$/, "") + "=".repeat((4 - (normal.replace(/=+$/, "").length % 4)) % 4);
  const binary = atob(padded);
  const key = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) key[i] = binary.charCodeAt(i);
  if (key.length !== 32) throw new TypeError(`a connection key is 32 bytes, got ${key.length}`);
  return key;
}

export function toHex(bytes) {
  return Array.from(asBytes(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(hex) {
  if (hex.length % 2) throw new TypeError("odd-length hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * JSON as the reference implementation writes it: compact, keys sorted (recursively),
 * non-ASCII as is. Integers only where the protocol has integers.
 */
export function canonicalJson(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}

function jsonBytes(value) {
  return encoder.encode(canonicalJson(value));
}

function jsonObject(payload, code = CloseCode.INVALID_PAYLOAD) {
  let obj;
  try {
    obj = JSON.parse(utf8(asBytes(payload), "payload", code));
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    fail(code, "payload is not UTF-8 JSON");
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) fail(code, "payload must be a JSON object");
  return obj;
}

// -- header and frames --------------------------------------------------------------------

function toCounter(counter) {
  const value = typeof counter === "bigint" ? counter : BigInt(counter);
  if (value < 0n || value > MAX_COUNTER) throw new RangeError("counter out of range");
  return value;
}

/** The 16-byte header: version, type, flags, counter (u64), length (u32), big-endian. */
export function packHeader(type, counter, length, flags = 0) {
  const header = new Uint8Array(HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint8(0, PROTOCOL_VERSION);
  view.setUint8(1, type);
  view.setUint16(2, flags);
  view.setBigUint64(4, toCounter(counter));
  view.setUint32(12, length);
  return header;
}

/**
 * Check a header (the first 16 bytes of `bytes`) and return {type, flags, counter, length}.
 * Refuses another version or nonzero flags (4001), an unknown type (4005), a length
 * above the cap (4004, before any payload is read) and a sealed length below the tag.
 */
export function parseHeader(bytes, { maxPayload = MAX_PAYLOAD_BYTES } = {}) {
  const data = asBytes(bytes);
  if (data.length < HEADER_SIZE) fail(CloseCode.BAD_FRAME, `a frame header is ${HEADER_SIZE} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, HEADER_SIZE);
  const version = view.getUint8(0);
  const type = view.getUint8(1);
  const flags = view.getUint16(2);
  const counter = view.getBigUint64(4);
  const length = view.getUint32(12);
  if (version !== PROTOCOL_VERSION) {
    fail(CloseCode.BAD_FRAME, `protocol version ${version} is not supported (this client speaks ${PROTOCOL_VERSION})`);
  }
  if (flags) fail(CloseCode.BAD_FRAME, `reserved flags must be 0, got 0x${flags.toString(16)}`);
  if (!TYPE_NAMES.has(type)) fail(CloseCode.UNKNOWN_TYPE, `unknown frame type ${frameTypeName(type)}`);
  if (PLAIN_TYPES.has(type)) {
    if (length > MAX_PLAIN_BYTES) {
      fail(CloseCode.TOO_LARGE, `${frameTypeName(type)} payload of ${length} bytes exceeds the cap of ${MAX_PLAIN_BYTES}`);
    }
  } else {
    const cap = Math.min(maxPayload, MAX_PAYLOAD_BYTES);
    if (length > cap) fail(CloseCode.TOO_LARGE, `${frameTypeName(type)} payload of ${length} bytes exceeds the cap of ${cap}`);
    if (length < TAG_SIZE) fail(CloseCode.BAD_FRAME, `sealed payload shorter than the ${TAG_SIZE}-byte tag`);
  }
  return { type, flags, counter, length };
}

/**
 * Decode a WebSocket message that holds exactly one frame (a HELLO, a test vector; the
 * relay's messages may hold several: use decodeFrames): {type, flags, counter, payload,
 * header}. A sealed frame's payload is still ciphertext‖tag; open it with a FrameOpener.
 */
export function decodeMessage(bytes, { maxPayload = MAX_PAYLOAD_BYTES } = {}) {
  const data = asBytes(bytes);
  const { type, flags, counter, length } = parseHeader(data, { maxPayload });
  if (data.length !== HEADER_SIZE + length) {
    fail(CloseCode.BAD_FRAME, `message of ${data.length} bytes does not hold exactly one frame of ${HEADER_SIZE + length}`);
  }
  return { type, flags, counter, header: data.subarray(0, HEADER_SIZE), payload: data.subarray(HEADER_SIZE) };
}

/**
 * Decode every frame of one WebSocket message: one or more whole frames, concatenated
 * as on the TCP leg, at most MAX_MESSAGE_BYTES in all. HELLO and REFUSE travel alone.
 * Returns [{type, flags, counter, header, payload}] with views into `bytes`.
 */
export function decodeFrames(bytes, { maxPayload = MAX_PAYLOAD_BYTES } = {}) {
  const data = asBytes(bytes);
  if (data.length < HEADER_SIZE) fail(CloseCode.BAD_FRAME, `a frame header is ${HEADER_SIZE} bytes`);
  if (data.length > MAX_MESSAGE_BYTES) {
    fail(CloseCode.TOO_LARGE, `a message of ${data.length} bytes exceeds the cap of ${MAX_MESSAGE_BYTES} (one largest frame)`);
  }
  const frames = [];
  let offset = 0;
  while (offset < data.length) {
    const left = data.length - offset;
    if (left < HEADER_SIZE) fail(CloseCode.BAD_FRAME, `the message ends inside a frame header (${left} bytes at offset ${offset})`);
    const rest = data.subarray(offset);
    const { type, flags, counter, length } = parseHeader(rest, { maxPayload });
    if (HEADER_SIZE + length > left) {
      fail(CloseCode.BAD_FRAME,
        `the message ends inside a frame: ${HEADER_SIZE + length} bytes announced at offset ${offset}, ${left} left`);
    }
    if (PLAIN_TYPES.has(type) && (offset !== 0 || HEADER_SIZE + length !== left)) {
      fail(CloseCode.BAD_FRAME, `a ${frameTypeName(type)} frame must be alone in its message`);
    }
    frames.push({ type, flags, counter, header: rest.subarray(0, HEADER_SIZE), payload: rest.subarray(HEADER_SIZE, HEADER_SIZE + length) });
    offset += HEADER_SIZE + length;
  }
  return frames;
}

/** A plain frame (HELLO or REFUSE only). */
export function encodePlain(type, payload) {
  if (!PLAIN_TYPES.has(type)) throw new TypeError(`${frameTypeName(type)} frames must be sealed`);
  const body = asBytes(payload);
  if (body.length > MAX_PLAIN_BYTES) throw new RangeError(`plain payload above ${MAX_PLAIN_BYTES} bytes`);
  return concat(packHeader(type, 0n, body.length), body);
}

// -- keys and nonces ------------------------------------------------------------------------

export const Direction = Object.freeze({
  DEVICE_TO_RELAY: "device->relay",
  RELAY_TO_DEVICE: "relay->device",
  VIEWER_TO_RELAY: "viewer->relay",
  RELAY_TO_VIEWER: "relay->viewer",
});
const DIRECTIONS = new Set(Object.values(Direction));

function subtle() {
  const api = globalThis.crypto && globalThis.crypto.subtle;
  if (!api) throw new Error("WebCrypto is not available (a browser needs a secure context: https or localhost)");
  return api;
}

/** The HKDF info of a direction: "guidepath relay v1 viewer->relay". */
export function hkdfInfo(direction) {
  if (!DIRECTIONS.has(direction)) throw new TypeError(`unknown direction ${direction}`);
  return encoder.encode(`guidepath relay v1 ${direction}`);
}

/** HKDF-SHA256(ikm = connection key, salt = 32 zero bytes, info) → 32 raw key bytes. */
export async function deriveDirectionKeyBytes(connectionKey, direction) {
  const ikm = asBytes(connectionKey);
  if (ikm.length !== 32) throw new TypeError(`a connection key is 32 bytes, got ${ikm.length}`);
  const base = await subtle().importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await subtle().deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: hkdfInfo(direction) }, base, 256);
  return new Uint8Array(bits);
}

async function directionKey(connectionKey, direction) {
  const raw = await deriveDirectionKeyBytes(connectionKey, direction);
  return subtle().importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** 12-byte nonce: four zero bytes then the counter as a big-endian u64. */
export function counterNonce(counter) {
  const nonce = new Uint8Array(NONCE_SIZE);
  new DataView(nonce.buffer).setBigUint64(4, toCounter(counter));
  return nonce;
}

// -- sealing and opening ----------------------------------------------------------------------

/**
 * Seals frames of one direction with counters 0, 1, 2, …. The counter is taken when
 * seal() is called, so frames must be sent in the order seal() was called (ViewerChannel
 * does that).
 */
export class FrameSealer {
  static async create(connectionKey, direction, { firstCounter = 0n } = {}) {
    return new FrameSealer(await directionKey(connectionKey, direction), direction, toCounter(firstCounter));
  }

  constructor(cryptoKey, direction, firstCounter) {
    this.key = cryptoKey;
    this.direction = direction;
    this.nextCounter = firstCounter;
  }

  /** Wire bytes of one sealed frame: header ‖ ciphertext ‖ tag. */
  async seal(type, payload = new Uint8Array(0)) {
    if (PLAIN_TYPES.has(type)) throw new TypeError(`${frameTypeName(type)} frames are plain, not sealed`);
    if (!TYPE_NAMES.has(type)) throw new TypeError(`unknown frame type ${type}`);
    const body = asBytes(payload);
    if (body.length + TAG_SIZE > MAX_PAYLOAD_BYTES) throw new RangeError(`payload above ${MAX_PAYLOAD_BYTES} bytes`);
    const counter = this.nextCounter;
    if (counter > MAX_COUNTER) throw new RangeError("frame counter exhausted: open a new connection");
    this.nextCounter = counter + 1n; // taken now: two seals in flight never share a nonce
    const header = packHeader(type, counter, body.length + TAG_SIZE);
    const sealed = await subtle().encrypt(
      { name: "AES-GCM", iv: counterNonce(counter), additionalData: header, tagLength: 128 }, this.key, body);
    return concat(header, new Uint8Array(sealed));
  }
}

/** Opens frames of one direction, accepting only the next counter. */
export class FrameOpener {
  static async create(connectionKey, direction, { firstCounter = 0n, maxPayload = MAX_PAYLOAD_BYTES } = {}) {
    return new FrameOpener(await directionKey(connectionKey, direction), direction, toCounter(firstCounter), maxPayload);
  }

  constructor(cryptoKey, direction, expectedCounter, maxPayload) {
    this.key = cryptoKey;
    this.direction = direction;
    this.expectedCounter = expectedCounter;
    this.maxPayload = Math.min(maxPayload, MAX_PAYLOAD_BYTES);
  }

  /**
   * Authenticate and decrypt a decoded frame; returns {type, counter, payload}. The
   * counter is checked before decrypting and advanced only once the tag verified, so a
   * forged frame cannot desynchronise the stream. Call one at a time (await each).
   */
  async open(frame) {
    if (PLAIN_TYPES.has(frame.type)) fail(CloseCode.NOT_ALLOWED, `${frameTypeName(frame.type)} must not appear after the hello`);
    if (frame.payload.length > this.maxPayload) {
      fail(CloseCode.TOO_LARGE, `payload above this connection's cap of ${this.maxPayload} bytes`);
    }
    const expected = this.expectedCounter;
    if (frame.counter !== expected) {
      const what = frame.counter < expected ? "replayed or reordered" : "skipped ahead";
      fail(CloseCode.OUT_OF_ORDER, `frame counter ${frame.counter} ${what}: expected ${expected}`);
    }
    const header = packHeader(frame.type, frame.counter, frame.payload.length, frame.flags || 0);
    let plaintext;
    try {
      plaintext = await subtle().decrypt(
        { name: "AES-GCM", iv: counterNonce(frame.counter), additionalData: header, tagLength: 128 }, this.key, frame.payload);
    } catch {
      fail(CloseCode.AUTHENTICATION_FAILED,
        `frame ${frame.counter} failed authentication (wrong key or direction, or modified)`);
    }
    if (this.expectedCounter !== expected) {
      // Someone opened another frame concurrently: the order is no longer known.
      fail(CloseCode.OUT_OF_ORDER, "frames must be opened one at a time, in arrival order");
    }
    this.expectedCounter = expected + 1n;
    return { type: frame.type, counter: frame.counter, payload: new Uint8Array(plaintext) };
  }

  /** Decode and open one whole message. */
  async openMessage(bytes) {
    return this.open(decodeMessage(bytes, { maxPayload: this.maxPayload }));
  }
}

// -- who may send what (the viewer's half of relay/protocol/rules.py) ------------------------

const ALWAYS = [FrameType.PING, FrameType.PONG, FrameType.CLOSE];
const TO_VIEWER = new Set([FrameType.ACK, FrameType.SCREEN, FrameType.CAMERA, FrameType.CLIPBOARD,
  FrameType.DEVICE_INFO, FrameType.PEER_STATUS, ...ALWAYS]);
const FROM_VIEWER = {
  remote_control: new Set([FrameType.INPUT, FrameType.CLIPBOARD, FrameType.REFRESH, ...ALWAYS]),
  camera: new Set([FrameType.REFRESH, ...ALWAYS]),
};

/** Frame types a viewer may send in a session of `kind`. */
export function allowedFromViewer(kind) {
  const allowed = FROM_VIEWER[kind];
  if (!allowed) throw new TypeError(`unknown kind ${kind}`);
  return allowed;
}

/** Refuse (4006) a frame the relay may not send to a viewer, or (4007) whose payload is invalid. */
export function checkFromRelay(frame) {
  if (!TO_VIEWER.has(frame.type)) fail(CloseCode.NOT_ALLOWED, `the relay may not send ${frameTypeName(frame.type)} to a viewer`);
  return decodePayload(frame);
}

/**
 * The decoded payload of an opened frame, by type (throws INVALID_PAYLOAD):
 * SCREEN/CAMERA → image, INPUT → event, CLIPBOARD → text, DEVICE_INFO → object,
 * PEER_STATUS → object, PING/PONG → 8 bytes, CLOSE → {code, reason}, ACK → object,
 * REFRESH → null.
 */
export function decodePayload(frame) {
  const { type, payload } = frame;
  switch (type) {
    case FrameType.SCREEN:
      return decodeImage(payload);
    case FrameType.CAMERA: {
      const image = decodeImage(payload);
      if (!image.full) invalid("camera frames must cover the whole image");
      return image;
    }
    case FrameType.INPUT:
      return decodeInput(payload);
    case FrameType.CLIPBOARD:
      return decodeClipboard(payload);
    case FrameType.DEVICE_INFO:
      return decodeDeviceInfo(payload);
    case FrameType.PEER_STATUS:
      return decodePeerStatus(payload);
    case FrameType.PING:
    case FrameType.PONG:
      return checkPing(payload);
    case FrameType.CLOSE:
      return decodeClose(payload);
    case FrameType.ACK:
      return decodeAck(payload);
    case FrameType.REFRESH:
      if (payload.length) invalid("REFRESH has an empty payload");
      return null;
    default:
      return fail(CloseCode.NOT_ALLOWED, `${frameTypeName(type)} has no sealed payload`);
  }
}

// -- hello, ack, refusal -----------------------------------------------------------------------

/** The payload of a HELLO: {"protocol":1,"role":…,"ticket":…}. */
export function encodeHello(role, ticket) {
  if (role !== "viewer" && role !== "device") throw new TypeError("role must be viewer or device");
  if (typeof ticket !== "string" || !ticket) throw new TypeError("the ticket is a non-empty string");
  return jsonBytes({ protocol: PROTOCOL_VERSION, role, ticket });
}

const ACK_FIELDS = ["connection_id", "heartbeat_seconds", "idle_timeout_seconds", "kind", "limits", "resumed", "role", "session_id"];

export function decodeAck(payload) {
  const obj = jsonObject(payload);
  const keys = Object.keys(obj).sort();
  if (keys.join() !== ACK_FIELDS.join()) invalid(`bad ack: needs exactly ${ACK_FIELDS.join(", ")}`);
  if (typeof obj.limits !== "object" || obj.limits === null) invalid("bad ack: limits must be an object");
  return obj;
}

export function decodeRefusal(payload) {
  const obj = jsonObject(payload);
  const keys = Object.keys(obj).sort().join();
  if (keys !== "code,reason" || !Number.isInteger(obj.code)) invalid("refusal needs an integer code and a reason");
  return { code: obj.code, reason: String(obj.reason) };
}

// -- images -----------------------------------------------------------------------------------

export const ImageFormat = Object.freeze({ PNG: 1, JPEG: 2, RAW_RGBA: 3 });
const IMAGE_FORMATS = new Set(Object.values(ImageFormat));
export const IMAGE_MIME = Object.freeze({ 1: "image/png", 2: "image/jpeg" });

/**
 * An image payload (SCREEN, CAMERA): {format, x, y, width, height, displayWidth,
 * displayHeight, data, full}. `data` is a view into `payload` (no copy).
 */
export function decodeImage(payload) {
  const bytes = asBytes(payload);
  if (bytes.length < IMAGE_HEADER_SIZE) invalid(`image payload shorter than its ${IMAGE_HEADER_SIZE}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, IMAGE_HEADER_SIZE);
  const image = {
    format: view.getUint8(0),
    x: view.getUint16(2),
    y: view.getUint16(4),
    width: view.getUint16(6),
    height: view.getUint16(8),
    displayWidth: view.getUint16(10),
    displayHeight: view.getUint16(12),
    data: bytes.subarray(IMAGE_HEADER_SIZE),
  };
  if (view.getUint8(1)) invalid("image header reserved byte must be 0");
  checkImage(image);
  image.full = image.x === 0 && image.y === 0 && image.width === image.displayWidth && image.height === image.displayHeight;
  return image;
}

function checkImage(image) {
  if (!IMAGE_FORMATS.has(image.format)) invalid(`unknown image format ${image.format}`);
  if (image.width < 1 || image.height < 1) invalid("image region must be at least 1x1");
  if (image.x + image.width > image.displayWidth || image.y + image.height > image.displayHeight) {
    invalid("image region lies outside the display");
  }
  if (!image.data.length) invalid("image data is empty");
  if (image.format === ImageFormat.RAW_RGBA && image.data.length !== image.width * image.height * 4) {
    invalid(`raw RGBA region ${image.width}x${image.height} needs ${image.width * image.height * 4} bytes`);
  }
}

/** The payload of an image frame (what a device sends; here for tests and tools). */
export function encodeImage({ format, x = 0, y = 0, width, height, displayWidth = width, displayHeight = height, data }) {
  const bytes = Array.isArray(data) ? Uint8Array.from(data) : asBytes(data);
  const image = { format, x, y, width, height, displayWidth, displayHeight, data: bytes };
  for (const name of ["x", "y", "width", "height", "displayWidth", "displayHeight"]) {
    if (!Number.isInteger(image[name]) || image[name] < 0 || image[name] > 0xffff) throw new RangeError(`${name} must be a u16`);
  }
  checkImage(image);
  const header = new Uint8Array(IMAGE_HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint8(0, format);
  [x, y, width, height, displayWidth, displayHeight].forEach((v, i) => view.setUint16(2 + 2 * i, v));
  return concat(header, image.data);
}

// -- input events -------------------------------------------------------------------------------

const INPUT_FIELDS = {
  pointer_move: ["x", "y"],
  pointer_down: ["button", "x", "y"],
  pointer_up: ["button", "x", "y"],
  key_down: ["code", "key", "modifiers"],
  key_up: ["code", "key", "modifiers"],
  scroll: ["dx", "dy", "x", "y"],
  touch: ["id", "phase", "x", "y"],
};
export const INPUT_TYPES = Object.freeze(Object.keys(INPUT_FIELDS));
const MODIFIERS = new Set(["shift", "ctrl", "alt", "meta"]);
const PHASES = new Set(["start", "move", "end", "cancel"]);

function intIn(obj, name, low, high) {
  const value = obj[name];
  if (!Number.isInteger(value) || value < low || value > high) invalid(`${name} must be an integer in [${low}, ${high}]`);
}

function textOf(obj, name, low, high) {
  const value = obj[name];
  // Python counts code points; so do we.
  if (typeof value !== "string" || [...value].length < low || [...value].length > high) {
    invalid(`${name} must be a string of ${low} to ${high} characters`);
  }
}

function checkInput(obj) {
  const fields = INPUT_FIELDS[obj.type];
  if (!fields) invalid(`input event type must be one of ${INPUT_TYPES.join(", ")}, got ${JSON.stringify(obj.type)}`);
  const keys = Object.keys(obj).filter((k) => k !== "type").sort();
  if (keys.join() !== fields.join()) invalid(`${obj.type} needs exactly the fields ${fields.join(", ")}, got ${keys.join(", ")}`);
  for (const name of ["x", "y"]) if (name in obj) intIn(obj, name, 0, 65535);
  if ("button" in obj) intIn(obj, "button", 0, 4);
  for (const name of ["dx", "dy"]) if (name in obj) intIn(obj, name, -100000, 100000);
  if ("id" in obj) intIn(obj, "id", 0, 31);
  if ("phase" in obj && !PHASES.has(obj.phase)) invalid("touch phase must be one of start, move, end, cancel");
  if ("key" in obj) {
    textOf(obj, "key", 1, 32);
    textOf(obj, "code", 0, 32);
    const mods = obj.modifiers;
    if (!Array.isArray(mods) || !mods.every((m) => MODIFIERS.has(m)) || new Set(mods).size !== mods.length) {
      invalid("modifiers must be a list of distinct values from alt, ctrl, meta, shift");
    }
  }
}

/** The INPUT payload of an event ({type, …fields}); throws what the relay would refuse. */
export function encodeInput(event) {
  const obj = { ...event };
  checkInput(obj);
  const bytes = jsonBytes(obj);
  if (bytes.length > MAX_INPUT_BYTES) invalid(`input event above ${MAX_INPUT_BYTES} bytes`);
  return bytes;
}

export function decodeInput(payload) {
  const bytes = asBytes(payload);
  if (bytes.length > MAX_INPUT_BYTES) invalid(`input event above ${MAX_INPUT_BYTES} bytes`);
  const obj = jsonObject(bytes);
  checkInput(obj);
  return obj;
}

/** The protocol's modifiers of a DOM KeyboardEvent/PointerEvent/WheelEvent. */
export function modifiersOf(event) {
  const mods = [];
  if (event.shiftKey) mods.push("shift");
  if (event.ctrlKey) mods.push("ctrl");
  if (event.altKey) mods.push("alt");
  if (event.metaKey) mods.push("meta");
  return mods;
}

// -- clipboard, device info, peer status, ping, close ---------------------------------------

export function encodeClipboard(text) {
  const bytes = encoder.encode(String(text));
  if (bytes.length > MAX_CLIPBOARD_BYTES) throw new RangeError(`clipboard text above ${MAX_CLIPBOARD_BYTES} bytes`);
  return bytes;
}

export function decodeClipboard(payload) {
  const bytes = asBytes(payload);
  if (bytes.length > MAX_CLIPBOARD_BYTES) invalid(`clipboard text above ${MAX_CLIPBOARD_BYTES} bytes`);
  return utf8(bytes, "clipboard text");
}

const DEVICE_TEXT = ["manufacturer", "brand", "model", "os_name", "os_version", "processor", "device_name", "serial_number"];
export const DEVICE_INFO_FIELDS = Object.freeze([...DEVICE_TEXT, "memory_bytes", "extra"]);

function checkDeviceInfo(obj) {
  const unknown = Object.keys(obj).filter((k) => !DEVICE_INFO_FIELDS.includes(k));
  if (unknown.length) invalid(`unknown device info fields ${unknown.sort().join(", ")}`);
  for (const name of DEVICE_TEXT) if (obj[name] !== undefined && obj[name] !== null) textOf(obj, name, 0, 256);
  const mem = obj.memory_bytes;
  if (mem !== undefined && mem !== null && !(Number.isInteger(mem) && mem >= 0)) {
    invalid("memory_bytes must be a non-negative integer or null");
  }
  if (obj.extra !== undefined && obj.extra !== null && (typeof obj.extra !== "object" || Array.isArray(obj.extra))) {
    invalid("extra must be an object");
  }
}

/** DEVICE_INFO → an object with every field (missing ones null, extra {}). */
export function decodeDeviceInfo(payload) {
  const bytes = asBytes(payload);
  if (bytes.length > MAX_DEVICE_INFO_BYTES) invalid(`device info above ${MAX_DEVICE_INFO_BYTES} bytes`);
  const obj = jsonObject(bytes);
  checkDeviceInfo(obj);
  const info = {};
  for (const name of DEVICE_INFO_FIELDS) info[name] = obj[name] ?? null;
  info.extra = obj.extra || {};
  return info;
}

export function encodeDeviceInfo(info) {
  const obj = {};
  for (const name of DEVICE_INFO_FIELDS) obj[name] = info[name] ?? null;
  obj.extra = info.extra || {};
  checkDeviceInfo({ ...info });
  return jsonBytes(obj);
}

export const PEER_STATES = Object.freeze(["waiting", "connected", "reconnecting", "gone"]);

export function decodePeerStatus(payload) {
  const obj = jsonObject(payload);
  if (!PEER_STATES.includes(obj.device)) invalid("peer status needs a device state");
  return obj;
}

/** PING and PONG carry exactly 8 opaque bytes. */
export function checkPing(payload) {
  const bytes = asBytes(payload);
  if (bytes.length !== 8) invalid("ping and pong payloads are exactly 8 bytes");
  return bytes;
}

/** A PING payload stamping `ms` (e.g. performance.now()), so its PONG gives the round trip. */
export function pingPayload(ms) {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, ms);
  return bytes;
}

/** The stamp of pingPayload(ms), read back from a PONG. */
export function pingStamp(payload) {
  const bytes = checkPing(payload);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0);
}

export function encodeClose(code, reason = "") {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError("close code must be a u16");
  let text = encoder.encode(String(reason));
  if (text.length > MAX_CLOSE_REASON_BYTES) {
    // Cutting may split a character: drop the broken tail rather than send junk.
    let end = MAX_CLOSE_REASON_BYTES;
    while (end > 0 && (text[end] & 0xc0) === 0x80) end -= 1;
    text = text.subarray(0, end);
  }
  const out = new Uint8Array(2 + text.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(text, 2);
  return out;
}

export function decodeClose(payload) {
  const bytes = asBytes(payload);
  if (bytes.length < 2 || bytes.length > 2 + MAX_CLOSE_REASON_BYTES) {
    invalid("close payload is a 2-byte code and at most 123 bytes of reason");
  }
  const code = new DataView(bytes.buffer, bytes.byteOffset, 2).getUint16(0);
  return { code, reason: utf8(bytes.subarray(2), "close reason") };
}

// -- a viewer connection, without IO ---------------------------------------------------------

/**
 * Both directions of one viewer connection: seals viewer->relay, opens relay->viewer,
 * and runs the handshake. Sealing and opening are each serialised, so the caller may
 * call seal()/receive() without awaiting the previous call: frames come out in call
 * order, and received messages are opened in arrival order.
 */
export class ViewerChannel {
  static async create(connectionKey, { maxPayload = MAX_PAYLOAD_BYTES } = {}) {
    const key = asBytes(connectionKey);
    const [sealer, opener] = await Promise.all([
      FrameSealer.create(key, Direction.VIEWER_TO_RELAY),
      FrameOpener.create(key, Direction.RELAY_TO_VIEWER, { maxPayload }),
    ]);
    return new ViewerChannel(sealer, opener);
  }

  constructor(sealer, opener) {
    this.sealer = sealer;
    this.opener = opener;
    this.ack = null; // the relay's ACK, once received
    this.closed = false;
    this._sending = Promise.resolve();
    this._receiving = Promise.resolve();
  }

  /** The HELLO frame to send first. */
  hello(ticket) {
    return encodePlain(FrameType.HELLO, encodeHello("viewer", ticket));
  }

  /** Wire bytes of a sealed frame; refuses types a viewer may not send in this kind. */
  seal(type, payload = new Uint8Array(0)) {
    if (!this.ack) return Promise.reject(new Error("the relay has not acknowledged the hello yet"));
    if (!allowedFromViewer(this.ack.kind).has(type)) {
      return Promise.reject(new ProtocolError(CloseCode.NOT_ALLOWED,
        `a viewer may not send ${frameTypeName(type)} frames in a ${this.ack.kind} session`));
    }
    const result = this._sending.then(() => this.sealer.seal(type, payload));
    this._sending = result.catch(() => {});
    return result;
  }

  /**
   * Open one message from the relay: resolves to an array of frames in order (a message
   * holds one or more), each {type, counter, payload, value} where value is the decoded
   * payload (see decodePayload). Before the ACK, a REFUSE rejects with RelayRefused and
   * anything but the ACK with a ProtocolError. A CLOSE resolves normally (value {code,
   * reason}) and marks the channel closed; a frame after it is a ProtocolError. If any
   * frame of the message fails, the promise rejects (the connection is over anyway).
   */
  receive(message) {
    const result = this._receiving.then(() => this._receive(message));
    this._receiving = result.catch(() => {});
    return result;
  }

  async _receive(message) {
    if (typeof message === "string") fail(CloseCode.BAD_FRAME, "the relay sent a text message");
    const opened = [];
    for (const frame of decodeFrames(message, { maxPayload: this.opener.maxPayload })) {
      opened.push(await this._openOne(frame));
    }
    return opened;
  }

  async _openOne(frame) {
    if (this.closed) fail(CloseCode.NOT_ALLOWED, "a frame arrived after CLOSE");
    if (!this.ack) {
      if (frame.type === FrameType.REFUSE) {
        const refusal = decodeRefusal(frame.payload);
        this.closed = true;
        throw new RelayRefused(refusal.code, refusal.reason);
      }
      if (frame.type !== FrameType.ACK) fail(CloseCode.NOT_ALLOWED, `expected ACK, got ${frameTypeName(frame.type)}`);
      const opened = await this.opener.open(frame);
      this.ack = decodeAck(opened.payload);
      const cap = this.ack.limits && this.ack.limits.max_frame_bytes;
      if (Number.isInteger(cap) && cap > 0) this.opener.maxPayload = Math.min(this.opener.maxPayload, cap);
      return { ...opened, value: this.ack };
    }
    if (frame.type === FrameType.ACK) fail(CloseCode.NOT_ALLOWED, "a second ACK arrived");
    const opened = await this.opener.open(frame);
    const value = checkFromRelay(opened);
    if (opened.type === FrameType.CLOSE) this.closed = true;
    return { ...opened, value };
  }
}

// -- recordings (relay/recording.py) -----------------------------------------------------------

export const RECORDING_VERSION = 1;
export const RECORDING_SOURCE = Object.freeze({ DEVICE: 0, VIEWER: 1 });
const RECORDING_MAGIC = [0x47, 0x50, 0x52, 0x43]; // "GPRC"
const RECORD_HEADER_SIZE = 14;

/**
 * Parse a session recording (the decrypted bytes of GET …/recordings/{file_id}):
 *
 *     "GPRC" u8 version=1 u32 n, n bytes of JSON header, then records, each
 *     u32 length, u8 frame_type, u8 source (0 device, 1 viewer), u64 t_us, payload
 *
 * Returns {header, records: [{t (seconds), source, type, payload}], duration}; payloads
 * are views into `bytes`. Throws an Error for anything else or a truncated file.
 */
export function decodeRecording(bytes) {
  const data = asBytes(bytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 9 || RECORDING_MAGIC.some((b, i) => data[i] !== b)) throw new Error("not a guidepath recording");
  if (data[4] !== RECORDING_VERSION) throw new Error(`recording version ${data[4]} is not supported`);
  const headerSize = view.getUint32(5);
  if (9 + headerSize > data.length) throw new Error("recording ends inside its header");
  let header;
  try {
    header = JSON.parse(strictDecoder.decode(data.subarray(9, 9 + headerSize)));
  } catch {
    throw new Error("the recording's header is not JSON");
  }
  const records = [];
  let offset = 9 + headerSize;
  let last = 0;
  while (offset < data.length) {
    if (offset + RECORD_HEADER_SIZE > data.length) throw new Error("recording ends inside a record header");
    const length = view.getUint32(offset);
    const type = view.getUint8(offset + 4);
    const source = view.getUint8(offset + 5);
    const tUs = view.getBigUint64(offset + 6);
    const start = offset + RECORD_HEADER_SIZE;
    if (start + length > data.length) throw new Error("recording ends inside a record");
    if (!TYPE_NAMES.has(type)) throw new Error(`recording holds an unknown frame type ${frameTypeName(type)}`);
    const t = Math.max(last, Number(tUs) / 1e6);
    last = t;
    records.push({ t, source, type, payload: data.subarray(start, start + length) });
    offset = start + length;
  }
  return { header, records, duration: last };
}
