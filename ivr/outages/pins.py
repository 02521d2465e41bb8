"""Staff PINs, stored only as salted PBKDF2 hashes: `pbkdf2_sha256$iterations$salt$hash`.

salt and hash are URL-safe base64 without padding. Nothing here logs or keeps a PIN.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 200_000
FORMAT = re.compile(r"^pbkdf2_sha256\$(\d{4,7})\$([A-Za-z0-9_-]{8,})\$([A-Za-z0-9_-]{43})$")
PIN = re.compile(r"^[0-9]{4,12}$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """Return the stored form of `pin`; raises ValueError unless it is 4-12 digits."""
    if not PIN.match(pin):
        raise ValueError("a PIN is 4 to 12 digits")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def is_valid_hash(stored: str) -> bool:
    """Return True when `stored` has the pbkdf2_sha256$iterations$salt$hash form."""
    return FORMAT.match(stored) is not None


def check_pin(pin: str, stored: str) -> bool:
    """Return True when `pin` matches the stored hash (constant-time compare); False otherwise."""
    m = FORMAT.match(stored)
    if m is None or not pin:
        return False
    iterations, salt, expected = int(m.group(1)), _unb64(m.group(2)), _unb64(m.group(3))
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return hmac.compare_digest(digest, expected)
