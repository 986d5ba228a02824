"""Sign-in throttling: per account and per address, counted atomically in Redis or in the database.

Every attempt is counted *before* the password is checked (so a burst of parallel guesses cannot all pass
the check together) and taken back when it succeeds. The account limit is small: five guesses per window
lock that account, with a message saying so. The address limit is much higher, so that one person guessing
at one account, or a few typos, never locks every officer behind an office's proxy out of the console;
it stops one address spraying guesses over many accounts. Signing in to one account resets nothing of
another account, and only takes back that one attempt of the address's count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.services import Services
from storage import staff as staff_store

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 100

Refusal = Literal["account", "address"] | None

# INCR and set the window's expiry in one step: a key can never be left without its expiry.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_UNCOUNT = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local k = math.min(n, tonumber(ARGV[1]))
if k > 0 then redis.call('DECRBY', KEYS[1], k) end
return n
"""


@dataclass
class LoginThrottle:
    """Counts of one deployment: in Redis when it has one (shared by every web process), else its database."""

    services: Services

    def attempt(self, username: str, address: str | None) -> Refusal:
        """Count one attempt; the reason it must be refused, if any (the account's limit is checked first,
        so a locked account is told so even when its address is also over)."""
        account = self._count(_account_key(username))
        by_address = self._count(_address_key(address))
        if account > MAX_PER_ACCOUNT:
            return "account"
        if by_address > MAX_PER_ADDRESS:
            return "address"
        return None

    def succeeded(self, username: str, address: str | None, attempts: int = 1) -> None:
        """A full sign-in: the account starts afresh; the address loses only the ``attempts`` that made
        this sign-in (two with TOTP: the password and the code), so an office signing in all day never
        nears its limit while earlier failures stay counted."""
        redis = self.services.redis
        if redis is not None:
            redis.delete(self._redis_key(_account_key(username)))
            redis.eval(_UNCOUNT, 1, self._redis_key(_address_key(address)), attempts)
            return
        with self.services.transaction() as db:
            staff_store.forget_login_attempts(db, _account_key(username))
            staff_store.uncount_login_attempts(db, _address_key(address), attempts)

    def _count(self, key: str) -> int:
        redis = self.services.redis
        if redis is not None:
            return int(redis.eval(_COUNT, 1, self._redis_key(key), int(WINDOW.total_seconds() * 1000)))
        with self.services.transaction() as db:  # a transaction of its own: no lock held over Argon2
            return staff_store.count_login_attempt(db, key, WINDOW)

    def _redis_key(self, key: str) -> str:
        return f"{self.services.settings.job_queue_name}:login:{key}"


def _account_key(username: str) -> str:
    return "account:" + username.strip().lower()[:64]


def _address_key(address: str | None) -> str:
    return "address:" + (address or "-")[:64]
