"""The check of requests against Twilio's OpenAPI description, shipped in ivr.devtools.twilio_spec."""
from ivr.devtools.twilio_spec import (  # noqa: F401 - re-exported for tests
    DEFAULT_SPEC,
    SPEC_ENV,
    Match,
    Problem,
    SpecValidator,
    load_validator,
    spec_path,
)
