"""The call log: each call an incident, written as idempotent events to Redis (spooled when it is down).

No Flask here: RQ workers and the CLI import this package.
"""
from ivr.calls.events import Outcome, event, fold
from ivr.calls.store import CallStore, connect_redis

__all__ = ["CallStore", "Outcome", "connect_redis", "event", "fold"]
