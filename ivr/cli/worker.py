"""`hotline worker`: a long-running RQ worker that also runs scheduled jobs (escalations,
blast watchdogs, the daily probe of each line with a `probe:` section: ivr.probe.jobs), and a
thread that turns the settle marks the webhooks leave into `settle` jobs every 0.25 s
(ivr.incidents.due; with --burst, once before the jobs). The Procfile's `worker:` line. Redis
from REDIS_URL (required, see ivr.cli.redis_env).

RQ lets one worker at a time run the scheduler, by a lock that lives 61 s. When the worker
holding it is killed, scheduled work would wait for that lock to expire; a worker on the same
host that can see the holder's process is gone releases the lock at start and at each
maintenance run (every HOTLINE_WORKER_MAINTENANCE_SECONDS, default 30) and takes over.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket

from ivr.cli import redis_env
from ivr.cli.common import CliError, fail

DEFAULT_QUEUES = ("sms", "default")  # every queue the hotline's jobs go to (ivr.sms.jobs, ivr.probe.jobs)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
log = logging.getLogger("ivr.worker")

# Delete the lock only if it is still held by the dead scheduler we looked at.
_RELEASE_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="run an RQ worker with the scheduler (SMS blasts, escalations)")
    parser.add_argument("--queue", action="append", dest="queues", metavar="NAME",
                        help=f"queue to work on, repeatable (default: {' '.join(DEFAULT_QUEUES)})")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--name", help="worker name (default: RQ's)")
    parser.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS,
                        help="how much to log (default INFO)")
    parser.set_defaults(run=run)


def _twilio_settings() -> None:
    """Raise CliError (exit 2) when Twilio's credentials are missing: every SMS job would fail."""
    from ivr.sms.twilio_rest import TwilioConfigError, client_from_env

    try:
        client_from_env()
    except TwilioConfigError:
        raise CliError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: the worker sends the SMS "
                       "through Twilio; set both (docs/outages.md lists the settings)") from None


def _seconds(name: str, default: int) -> int:
    """Return environment variable `name` as whole seconds (> 0), else `default`; raises CliError."""
    text = os.environ.get(name) or str(default)
    if not text.strip().isdigit() or int(text) < 1:
        raise CliError(f"{name} {text!r} is not a whole number of seconds (e.g. {default})")
    return int(text)


def _running(pid: int) -> bool:
    """Return True when process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


PUMP_TIMEOUT = 10.0  # seconds the settle pump waits for Redis to connect or answer before it tries again


def pump_client(url: str):
    """Return the settle pump's own Redis client for `url`: a Redis that goes silent costs it a
    timeout (then it tries again), never a wait without end."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=PUMP_TIMEOUT, socket_connect_timeout=PUMP_TIMEOUT)


def release_dead_scheduler_locks(client, queue_names: list[str]) -> list[str]:
    """Release RQ scheduler locks whose holder ran on this host and is gone; returns the queues freed."""
    from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

    freed = []
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        holder = client.get(key)
        if not holder:
            continue
        info = client.hgetall(SCHEDULER_KEY_TEMPLATE % holder.decode())
        host, pid = info.get(b"hostname", b"").decode(), int(info.get(b"pid") or 0)
        if host == socket.gethostname() and pid and not _running(pid):
            if client.eval(_RELEASE_IF, 1, key, holder):
                freed.append(name)
    if freed:
        log.warning("released RQ scheduler lock(s) of a dead scheduler for: %s", ", ".join(freed))
    return freed


def run(args: argparse.Namespace) -> int:
    import redis
    from rq import Queue, Worker

    import ivr.incidents.jobs  # noqa: F401 - load job code (and twilio) once; RQ forks a horse per job
    from ivr.incidents import due
    import ivr.outages.jobs  # noqa: F401
    from ivr.probe.jobs import schedule_probes
    from ivr.sms.jobs import resume_all

    class HotlineWorker(Worker):
        """An RQ Worker that frees a dead scheduler's lock before its maintenance retakes it."""

        def run_maintenance_tasks(self):
            try:
                release_dead_scheduler_locks(self.connection, [q.name for q in self.queues])
            except redis.RedisError as exc:
                log.warning("could not check the scheduler lock: %s", exc)
            super().run_maintenance_tasks()

    names = args.queues or list(DEFAULT_QUEUES)
    try:
        for name in names:
            if name not in DEFAULT_QUEUES:
                raise CliError(f"no job of the hotline goes to queue {name!r}; its queues are: "
                               f"{', '.join(DEFAULT_QUEUES)}")
        maintenance = _seconds("HOTLINE_WORKER_MAINTENANCE_SECONDS", 30)
        url = redis_env.required_url()
        client = redis_env.reachable(url)
        _twilio_settings()
    except CliError as exc:
        return fail(exc)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # INFO dumps every request
    try:
        release_dead_scheduler_locks(client, names)
        resumed = resume_all(client)
        if resumed:
            log.info("watching %d unfinished blast(s) again", resumed)
        schedule_probes(client)
        if args.burst:
            due.pump_once(client)   # the settling already due, then the jobs
        else:
            due.start_pump(pump_client(url))  # its own connection: RQ forks a horse per job
        queues = [Queue(name, connection=client) for name in names]
        worker = HotlineWorker(queues, connection=client, name=args.name, maintenance_interval=maintenance)
        worker.work(burst=args.burst, with_scheduler=True, logging_level=args.log_level)
    except redis.RedisError as exc:
        return fail(CliError(redis_env.failed(url, exc), 1))
    return 0
