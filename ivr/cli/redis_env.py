"""Where the CLI's Redis comes from, and how its Redis errors read.

One rule for every subcommand: the URL is --redis-url where a command has it, else $REDIS_URL.
Commands that need Redis (`outage`, `worker`, `call --log`) refuse to run without one (exit 2);
`calls` and `serve` work on the spool alone and say so. A URL that is not a Redis URL is refused
(exit 2); an unreachable Redis is a failure (exit 1). Every message names the URL tried, with its
password masked.
"""
from __future__ import annotations

import os
import re
from typing import Callable
from urllib.parse import urlsplit

import redis

from ivr.cli.common import CliError

EXAMPLE = "redis://localhost:6379/0"
_QUERY_PASSWORD = re.compile(r"(?i)(password=)[^&]*")


def mask(url: str) -> str:
    """Return `url` with any password (user:PASSWORD@ or ?password=) replaced by ***."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return "(a URL that does not parse)"
    if password is not None:
        url = url.replace(f":{password}@", ":***@", 1)
    return _QUERY_PASSWORD.sub(r"\1***", url)


def url_from(option: str | None = None) -> str | None:
    """Return the Redis URL given by --redis-url (`option`), else $REDIS_URL, else None."""
    return option or os.environ.get("REDIS_URL") or None


def required_url(option: str | None = None) -> str:
    """Return the Redis URL; raises CliError (exit 2) saying what to set when there is none."""
    url = url_from(option)
    if url is None:
        raise CliError(f"REDIS_URL is not set: this command needs Redis; set it, e.g. REDIS_URL={EXAMPLE}")
    return url


def client(url: str, factory: Callable[..., redis.Redis] = redis.Redis.from_url,
           name: str = "REDIS_URL") -> redis.Redis:
    """Return factory(url) (a lazy client); raises CliError (exit 2) when `url` is not a Redis URL.

    `name` says where the URL came from (REDIS_URL or --redis-url).
    """
    try:
        return factory(url)
    except ValueError as exc:
        raise CliError(f"{name} {mask(url)!r} is not a Redis URL: {scrub(str(exc), url)}; "
                       f"e.g. {EXAMPLE}") from None


def source(option: str | None) -> str:
    """Return where url_from(option) takes the URL from: "--redis-url" or "REDIS_URL"."""
    return "--redis-url" if option else "REDIS_URL"


def reachable(url: str, factory: Callable[..., redis.Redis] = redis.Redis.from_url,
              then: str = "") -> redis.Redis:
    """Return a client for `url` that answered a PING; raises CliError (exit 2 bad URL, 1 unreachable).

    `then` is added to the unreachable message (e.g. "; nothing was changed").
    """
    conn = client(url, factory)
    try:
        conn.ping()
    except redis.RedisError as exc:
        raise CliError(unreachable(url, exc) + then, 1) from None
    return conn


def unreachable(url: str, exc: Exception) -> str:
    """Return "cannot reach Redis at URL (reason)" with the password masked everywhere."""
    return f"cannot reach Redis at {mask(url)} ({scrub(str(exc), url)})"


def failed(url: str, exc: Exception, when: str = "") -> str:
    """Return "Redis failed[ when] (reason) at URL" for an error after Redis had answered."""
    return f"Redis failed{' ' + when if when else ''} ({scrub(str(exc), url)}) at {mask(url)}"


def scrub(text: str, url: str) -> str:
    """Return `text` without the password of `url` in it."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in filter(None, [password, *(m.group(0)[9:] for m in _QUERY_PASSWORD.finditer(url))]):
        text = text.replace(secret, "***")
    return text
