"""The tests' Twilio: the stand-in shipped as `hotline fake-twilio` (ivr.devtools.fake_twilio).

Tests build it with the defaults, which check every request against Twilio's OpenAPI description
and refuse to start without it.
"""
from ivr.devtools.fake_twilio import (  # noqa: F401 - re-exported for tests and bench/
    API,
    KNOWN_MESSAGES,
    SERVED,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_MESSAGING_SERVICE_SID,
    FakeTwilio,
    Fault,
    Violation,
    error_body,
)
