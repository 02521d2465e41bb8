"""Every Redis key name of the project, built by small functions in one place."""
from __future__ import annotations

PREFIX = "hotline"
