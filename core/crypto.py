"""Token encryption at rest (AES-GCM) and signed short-lived tokens (HMAC)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class TokenCipher:
    def __init__(self, key_b64: str) -> None:
        self._aead = AESGCM(base64.urlsafe_b64decode(key_b64.encode()))

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], None).decode()


class BadSignature(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], secret: bytes, ttl_s: int) -> str:
    body = dict(payload, exp=int(time.time()) + ttl_s)
    raw = _b64(json.dumps(body, separators=(",", ":")).encode())
    mac = hmac.new(secret, raw.encode(), hashlib.sha256).digest()[:16]
    return f"{raw}.{_b64(mac)}"


def unsign(token: str, secret: bytes) -> dict[str, Any]:
    """Verify and decode; raises BadSignature('forged'|'expired'|'malformed')."""
    try:
        raw, mac = token.split(".", 1)
        expected = hmac.new(secret, raw.encode(), hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise BadSignature("forged")
        body = json.loads(_unb64(raw))
    except (ValueError, json.JSONDecodeError):
        raise BadSignature("malformed") from None
    if not isinstance(body, dict) or int(body.get("exp", 0)) < time.time():
        raise BadSignature("expired")
    return body
