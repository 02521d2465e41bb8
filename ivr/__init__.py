"""The phone side of the outage hotline: Flask webhooks, TwiML, call log, outages, jobs and CLI."""


def create_app(*args, **kwargs):
    """Return the Flask app (see ivr.app.create_app); imported lazily so the CLI starts fast."""
    from ivr.app import create_app as factory

    return factory(*args, **kwargs)
