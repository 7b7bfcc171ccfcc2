"""Signing secrets and signatures, per the Standard Webhooks specification.

A secret is ``whsec_`` + base64 of 32 random bytes; it is shown to the admin once
and stored sealed (AES-256-GCM) under the tenant's data key, bound to the tenant
and the subscription (a sealed value copied to another row does not open). The
signature is ``v1,`` + base64 of HMAC-SHA256(secret bytes, ``id.timestamp.body``);
during a rotation a delivery carries one such entry per valid secret, separated by
spaces, so receivers switch over at their own pace.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _random

from guidepath.core.plugin_api import open_sealed, seal

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret[len(PREFIX):] if secret.startswith(PREFIX) else secret)


def _aad(tenant_id: str, subscription_id: str) -> bytes:
    return f"webhooks:{tenant_id}:{subscription_id}".encode()


def seal_secret(data_key: bytes, tenant_id: str, subscription_id: str, secret: str) -> bytes:
    return seal(data_key, secret.encode(), _aad(tenant_id, subscription_id))


def open_secret(data_key: bytes, tenant_id: str, subscription_id: str, blob: bytes) -> str:
    return open_sealed(data_key, bytes(blob), _aad(tenant_id, subscription_id)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets),
    }
