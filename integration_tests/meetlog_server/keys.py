"""Personal API keys (tk_live_…): each has an owner account, scopes, and may be revoked or expired."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

from .responses import ApiError

KEY_PREFIX = "tk_live_"
ALL_SCOPES = ("export:transcripts", "export:reports", "export:projects")
_BEARER = re.compile(r"^bearer\s+(\S+)$", re.IGNORECASE)  # the auth scheme is case-insensitive (RFC 7235)
_KEY_SHAPE = re.compile(r"^tk_live_[A-Za-z0-9_-]+$")


@dataclass
class ApiKey:
    key: str
    label: str  # what request records show, so tests never need the secret itself
    account: str
    scopes: frozenset[str]
    state: str = "active"  # "active" | "revoked" | "expired"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)  # 24 bytes -> 32 url-safe characters


class KeyRing:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}

    def add(self, account: str = "acme", scopes=ALL_SCOPES, key: str | None = None, label: str | None = None) -> ApiKey:
        unknown = set(scopes) - set(ALL_SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}; known: {ALL_SCOPES}")
        key = key or new_key()
        if not _KEY_SHAPE.match(key):
            raise ValueError(f"a key looks like {KEY_PREFIX}<url-safe characters>")
        with self._lock:
            if key in self._keys:
                raise ValueError("key already registered")
            label = label or f"key{len(self._keys) + 1}"
            if any(k.label == label for k in self._keys.values()):
                raise ValueError(f"label {label!r} already used")
            api_key = ApiKey(key, label, account, frozenset(scopes))
            self._keys[key] = api_key
            return api_key

    def set_state(self, key: str, state: str) -> None:
        with self._lock:
            self._keys[key].state = state

    def find(self, authorization: str | None) -> ApiKey | None:
        """The registered key named by an Authorization header, whatever its state."""
        match = _BEARER.match(authorization or "")
        return self._keys.get(match.group(1)) if match else None

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The active key behind the header, or ApiError 401 saying what is wrong with it."""
        if not authorization:
            raise unauthorized("Missing Authorization header: send 'Authorization: Bearer tk_live_…'")
        match = _BEARER.match(authorization)
        if not match or not _KEY_SHAPE.match(match.group(1)):
            raise unauthorized("Malformed Authorization header: expected 'Bearer tk_live_…'")
        api_key = self._keys.get(match.group(1))
        if api_key is None:
            raise unauthorized("Invalid API key")
        if api_key.state == "revoked":
            raise unauthorized("API key has been revoked")
        if api_key.state == "expired":
            raise unauthorized("API key has expired")
        return api_key


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)
