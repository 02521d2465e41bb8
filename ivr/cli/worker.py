"""`hotline worker`: a long-running RQ worker that also runs scheduled jobs (escalations,
blast watchdogs). The Procfile's `worker:` line. Redis from REDIS_URL."""
from __future__ import annotations

import argparse
import logging
import os

from ivr.cli.common import CliError, fail

DEFAULT_QUEUES = ("sms", "default")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="run an RQ worker with the scheduler (SMS blasts, escalations)")
    parser.add_argument("--queue", action="append", dest="queues", metavar="NAME",
                        help=f"queue to work on, repeatable (default: {' '.join(DEFAULT_QUEUES)})")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--name", help="worker name (default: RQ's)")
    parser.add_argument("--log-level", default="INFO")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import redis
    from rq import Queue, Worker

    import ivr.outages.jobs  # noqa: F401 - load job code (and twilio) once; RQ forks a horse per job
    from ivr.sms.jobs import redis_from_env, resume_all

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # INFO dumps every request
    client = redis_from_env()
    try:
        client.ping()
        resumed = resume_all(client)
    except redis.RedisError as exc:
        return fail(CliError(f"cannot reach Redis at REDIS_URL: {exc}", 1))
    if resumed:
        logging.getLogger("ivr.worker").info("watching %d unfinished blast(s) again", resumed)
    queues = [Queue(name, connection=client) for name in (args.queues or DEFAULT_QUEUES)]
    # Maintenance also retries taking RQ's scheduler lock when its holder died (RQ's default: 10 min).
    maintenance = int(os.environ.get("HOTLINE_WORKER_MAINTENANCE_SECONDS") or 30)
    worker = Worker(queues, connection=client, name=args.name, maintenance_interval=maintenance)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=args.log_level)
    return 0
