"""Password hashing (Argon2id) and TOTP second factors for staff accounts."""

from __future__ import annotations

import hmac
import time
from datetime import datetime, timezone

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a miss costs the same time as a wrong password.
_DUMMY = _hasher.hash("siang-no-such-user")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password has at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Siang")


def verify_totp(secret: str, code: str) -> bool:
    return totp_step(secret, code) is not None


def totp_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step (30 s) whose code ``code`` is, within one step of now; None if it is none of them.

    Sign-in keeps the step so the same code cannot be used again (``storage.staff.accept_totp_step``)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return totp.timecode(datetime.fromtimestamp(moment, timezone.utc))
    return None
