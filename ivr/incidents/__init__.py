"""Incidents: every call that asked for a person gets a short number per hotline and a state
(answered, missed, acknowledged, resolved); missed ones page the notify lists by SMS until
someone acknowledges (by SMS reply or `hotline incidents ack`). See docs/incidents.md.

Modules: model (pure values), store and alerts (Redis), jobs and paging (RQ, no Flask),
service (acknowledge/resolve), replies (SMS commands), links (voicemail links), web (Flask).
"""
