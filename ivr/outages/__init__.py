"""Outages: declare and restore, SMS blasts to the sites, timed escalation, status on the line.

Submodules: model (values), pins (PIN hashes), store (Redis), texts (rendering), service
(declare/restore used by the CLI and the phone), jobs (RQ, no Flask), voice (Flask views).
"""
