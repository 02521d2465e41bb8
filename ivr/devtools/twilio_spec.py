"""Check HTTP requests against Twilio's official OpenAPI description (API 2010-04-01).

The spec lives in ``<repo>/../shared/twilio/twilio_api_v2010.yaml`` (CI clones
the repo with shared/ beside it); ``HOTLINE_TWILIO_SPEC`` overrides the path.
It is parsed once per process (with PyYAML; nothing else is needed). ``RoutesOnly``
stands in when the spec is not at hand: it finds the operation and checks nothing.

Only what is cheap and certain is checked: the path and method exist, path and
query parameters are declared, form fields are known to the operation's
requestBody, required fields are present, and values match the declared type,
enum, pattern, length and a few formats. A handful of rules that Twilio only
states in prose (e.g. a message needs a body) are added per operation.
"""

from __future__ import annotations

import functools
import os
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml

SPEC_ENV = "HOTLINE_TWILIO_SPEC"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.yaml"
FORM = "application/x-www-form-urlencoded"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# The fake's code for a bad parameter that has no more specific Twilio code.
INVALID_PARAMETER = 21200
# Twilio's error codes for the common missing-field mistakes.
MISSING_CODES = {"To": 21604, "From": 21603, "Body": 21602}

# Rules the spec only states in prose: at least one field of each group.
ONE_OF_RULES: dict[str, list[tuple[str, ...]]] = {
    "CreateMessage": [("From", "MessagingServiceSid"), ("Body", "MediaUrl", "ContentSid")],
    "CreateCall": [("Url", "Twiml", "ApplicationSid")],
}

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CHANNEL_ADDRESS = re.compile(r"^[a-z][a-z0-9-]*:\S+$")  # whatsapp:+45..., messenger:...
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
SHORT_CODE = re.compile(r"^\d{5,6}$")
CALL_ENDPOINT = re.compile(r"^(client|sip|sim|whatsapp):\S+$")


def spec_path() -> Path:
    """Return the spec location: ``$HOTLINE_TWILIO_SPEC`` or the shared/ default."""
    return Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)


@functools.lru_cache(maxsize=None)
def _load(path: str) -> "SpecValidator":
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as handle:
        return SpecValidator(yaml.load(handle, Loader=loader))


def load_validator(path: Path | str | None = None) -> "SpecValidator":
    """Return the (cached) validator for ``path`` or ``spec_path()``.

    Raises FileNotFoundError with a hint if the spec file is missing.
    """
    path = Path(path) if path is not None else spec_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"Twilio OpenAPI spec not found at {path}: expected shared/ beside the "
            f"repository, or set {SPEC_ENV} to the file"
        )
    return _load(str(path.resolve()))


@dataclass(frozen=True)
class Problem:
    """One way a request breaks the spec; ``status``/``code`` suit the error reply."""

    message: str
    status: int = 400
    code: int = INVALID_PARAMETER


@dataclass(frozen=True)
class Match:
    """The spec operation a request resolved to."""

    template: str
    method: str
    operation_id: str
    path_params: dict[str, str]


class SpecValidator:
    """Validates (method, path, query, form) against a parsed OpenAPI document."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.schemas = spec.get("components", {}).get("schemas", {})
        routes = []
        for template, item in spec["paths"].items():
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append((template.count("{"), re.compile(f"^{regex}$"), template, item))
        routes.sort(key=lambda route: route[0])  # literal segments win
        self._routes = routes

    def resolve(self, path: str) -> tuple[str, dict, dict[str, str]] | None:
        """Return (template, path item, path params) for ``path``, or None."""
        for _, regex, template, item in self._routes:
            found = regex.match(path)
            if found:
                return template, item, found.groupdict()
        return None

    def validate(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        content_type: str | None,
    ) -> tuple[Match | None, list[Problem]]:
        """Check one request. Returns (operation match or None, problems found)."""
        resolved = self.resolve(path)
        if resolved is None:
            return None, [Problem(f"{path} is not a path in the Twilio spec", 404, 20404)]
        template, item, path_params = resolved
        operation = item.get(method.lower())
        if method.lower() not in HTTP_METHODS or operation is None:
            allowed = sorted(m.upper() for m in item if m in HTTP_METHODS)
            return None, [Problem(f"{method} {template} is not in the spec (allowed: {allowed})", 405, 20004)]
        match = Match(template, method.upper(), operation.get("operationId", ""), path_params)
        parameters = {(p["in"], p["name"]): p for p in item.get("parameters", []) + operation.get("parameters", [])}
        problems: list[Problem] = []
        for name, value in path_params.items():
            declared = parameters.get(("path", name))
            problems += self._check_value(f"path parameter {name}", value, declared["schema"] if declared else {})
        for name, values in query.items():
            declared = parameters.get(("query", name))
            if declared is None:
                problems.append(Problem(f"unknown query parameter {name!r} for {match.operation_id}"))
            else:
                problems += self._check_values(f"query parameter {name}", values, declared.get("schema", {}))
        problems += self._check_body(match, operation, form, content_type)
        return match, problems

    # -- request body ---------------------------------------------------------

    def _check_body(
        self, match: Match, operation: dict, form: dict[str, list[str]], content_type: str | None
    ) -> list[Problem]:
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            return [Problem(f"{match.operation_id} takes no request body, got {sorted(form)}")] if form else []
        if FORM not in content:
            return [Problem(f"{match.operation_id}: the fake only checks {FORM} bodies")]
        if form and (content_type or "").split(";")[0].strip().lower() != FORM:
            return [Problem(f"{match.operation_id} expects Content-Type {FORM}, got {content_type!r}")]
        schema = content[FORM]["schema"]
        properties = schema.get("properties", {})
        problems = []
        for name in schema.get("required", []):
            if not _present(form, name):
                code = MISSING_CODES.get(name, INVALID_PARAMETER)
                problems.append(Problem(f"{match.operation_id}: required parameter {name!r} is missing", 400, code))
        for name, values in form.items():
            if name not in properties:
                problems.append(Problem(f"{match.operation_id}: unknown parameter {name!r}"))
            else:
                problems += self._check_values(f"parameter {name}", values, properties[name])
        for group in ONE_OF_RULES.get(match.operation_id, []):
            if not any(_present(form, name) for name in group):
                code = MISSING_CODES.get(group[0], INVALID_PARAMETER)
                problems.append(Problem(f"{match.operation_id}: one of {', '.join(group)} is required", 400, code))
        return problems

    # -- values ---------------------------------------------------------------

    def _deref(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _check_values(self, label: str, values: list[str], schema: dict) -> list[Problem]:
        schema = self._deref(schema)
        if schema.get("type") == "array":
            item_schema = schema.get("items", {})
            return [p for value in values for p in self._check_value(label, value, item_schema)]
        if len(values) > 1:
            return [Problem(f"{label} given {len(values)} times but is not an array")]
        return self._check_value(label, values[0], schema)

    def _check_value(self, label: str, value: str, schema: dict) -> list[Problem]:
        schema = self._deref(schema)
        kind = schema.get("type", "string")
        error = None
        if kind == "integer" and not re.fullmatch(r"-?\d+", value):
            error = "is not an integer"
        elif kind == "number" and not _is_number(value):
            error = "is not a number"
        elif kind == "boolean" and value.lower() not in ("true", "false"):
            error = "is not a boolean (true/false)"
        elif "enum" in schema and value not in schema["enum"]:
            error = f"is not one of {schema['enum']}"
        elif "minLength" in schema and len(value) < schema["minLength"]:
            error = f"is shorter than {schema['minLength']}"
        elif "maxLength" in schema and len(value) > schema["maxLength"]:
            error = f"is longer than {schema['maxLength']}"
        elif "pattern" in schema and not re.search(schema["pattern"], value):
            error = f"does not match {schema['pattern']}"
        elif not schema.get("x-twilio", {}).get("ignoreFormat"):
            error = _format_error(schema.get("format"), value, label)
        if error is None:
            return []
        code = 21211 if label == "parameter To" else INVALID_PARAMETER
        return [Problem(f"{label}={value!r} {error}", 400, code)]


def _present(form: dict[str, list[str]], name: str) -> bool:
    """True if ``name`` was sent with a non-empty value."""
    return any(value.strip() for value in form.get(name, []))


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _format_error(fmt: str | None, value: str, label: str) -> str | None:
    """Return why ``value`` breaks format ``fmt``, or None (unknown formats pass)."""
    if fmt == "uri":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "is not an absolute http(s) URL"
        if "_" in parts.hostname:
            return "has an underscore in the host name, which Twilio rejects"
    elif fmt == "phone-number":
        if E164.match(value) or CHANNEL_ADDRESS.match(value):
            return None
        if label != "parameter To" and (ALPHANUMERIC_SENDER.match(value) or SHORT_CODE.match(value)):
            return None
        return "is not an E.164 number (+CC...) or channel address"
    elif fmt == "endpoint":
        if not (E164.match(value) or CALL_ENDPOINT.match(value)):
            return "is not an E.164 number or client:/sip: address"
    elif fmt == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "is not an ISO 8601 date-time"
    elif fmt == "twiml":
        try:
            root = ElementTree.fromstring(value)
        except ElementTree.ParseError:
            return "is not well-formed XML"
        if root.tag != "Response":
            return "is not a <Response> TwiML document"
    return None


# The operations the stand-in serves, for RoutesOnly (the spec names them the same).
SERVED_ROUTES = {
    "/2010-04-01/Accounts/{AccountSid}/Messages.json": {"post": "CreateMessage", "get": "ListMessage"},
    "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json": {"get": "FetchMessage"},
    "/2010-04-01/Accounts/{AccountSid}/Calls.json": {"post": "CreateCall"},
    "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json": {"get": "FetchCall"},
}


class RoutesOnly(SpecValidator):
    """A validator without the spec: resolves the served operations and checks nothing else."""

    def __init__(self):
        super().__init__({"paths": {template: {method: {"operationId": op} for method, op in ops.items()}
                                    for template, ops in SERVED_ROUTES.items()}})

    def validate(self, method, path, query, form, content_type):
        """Return (operation match or None, problems): only an unknown path or method is a problem."""
        return super().validate(method, path, {}, {}, None)
