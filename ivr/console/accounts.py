"""Console accounts in Redis: a name, a role and an argon2 password hash (never shown anywhere)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis

from ivr import keys

_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Verified when the account does not exist, so a wrong name costs as much time as a wrong password.
_DUMMY = _HASHER.hash("not-a-password-of-anyone")


class Role(str, Enum):
    """What an account may do: responders act on outages; admins also see the config pages."""

    ADMIN = "admin"
    RESPONDER = "responder"


class AccountError(Exception):
    """A bad account name or password, or an unknown account; the message is for the admin."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    created_at: str


def _t(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def check_name(name: str) -> str:
    """Return the account name lower-cased; raises AccountError when it is not a plain login name."""
    name = (name or "").strip().lower()
    if not _NAME.match(name):
        raise AccountError(f"{name!r} is not an account name (letters, digits, . _ @ -; at most 64)")
    return name


def check_password(password: str) -> str:
    """Return the password; raises AccountError when it is shorter than MIN_PASSWORD characters."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


class AccountStore:
    """Adds, changes, lists and checks console accounts in one Redis."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def add(self, name: str, password: str, role: Role, now: dt.datetime) -> Account:
        """Create an account; raises AccountError when it exists or the name/password is bad."""
        name, password = check_name(name), check_password(password)
        created = now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        fields = {"hash": _HASHER.hash(password), "role": Role(role).value, "created_at": created}
        if not self.redis.hsetnx(keys.console_account(name), "hash", fields["hash"]):
            raise AccountError(f"account {name} exists (change its password with `hotline admin passwd`)")
        self.redis.hset(keys.console_account(name), mapping=fields)
        self.redis.sadd(keys.console_accounts(), name)
        return Account(name, Role(role), created)

    def set_password(self, name: str, password: str) -> None:
        """Replace an account's password; raises AccountError for an unknown account or bad password."""
        name, password = check_name(name), check_password(password)
        if self.get(name) is None:
            raise AccountError(f"no account {name}")
        self.redis.hset(keys.console_account(name), "hash", _HASHER.hash(password))

    def remove(self, name: str) -> None:
        """Delete an account; raises AccountError when there is none."""
        name = check_name(name)
        if not self.redis.delete(keys.console_account(name)):
            raise AccountError(f"no account {name}")
        self.redis.srem(keys.console_accounts(), name)

    def get(self, name: str) -> Account | None:
        """Return the account (without its hash), or None."""
        try:
            name = check_name(name)
        except AccountError:
            return None
        raw = {_t(k): _t(v) for k, v in self.redis.hgetall(keys.console_account(name)).items()}
        if not raw.get("hash") or raw.get("role") not in {r.value for r in Role}:
            return None
        return Account(name, Role(raw["role"]), raw.get("created_at", ""))

    def list(self) -> list[Account]:
        """Return every account, sorted by name."""
        names = sorted(_t(n) for n in self.redis.smembers(keys.console_accounts()))
        return [a for a in (self.get(n) for n in names) if a is not None]

    def verify(self, name: str, password: str) -> Account | None:
        """Return the account when `password` is its password, else None (same cost either way)."""
        try:
            name = check_name(name)
        except AccountError:
            name = ""
        stored = self.redis.hget(keys.console_account(name), "hash") if name else None
        try:
            _HASHER.verify(_t(stored) if stored else _DUMMY, password or "")
        except (VerificationError, InvalidHashError):
            return None
        return self.get(name) if stored else None
