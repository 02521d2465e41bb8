"""Automatic test calls ("probes"): a real call to a hotline from a configured probe number.

model (the config's `probe:` section), expect (what `hotline route` says the call should do and
how a logged call differs), voice (the app's answer to a probe caller: the route said, nobody
rung), place (the call through Twilio's REST API and its log record), results (the last result
per line in Redis), jobs (the daily RQ job and the SMS to the admins).
"""
