"""The JSON documents Twilio's REST API 2010-04-01 answers with: a Message, a Call, an error."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from email.utils import format_datetime

API = "/2010-04-01"


def error_body(status: int, code: int, message: str) -> dict:
    """Return a Twilio-style error document."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def now_rfc2822() -> str:
    """Return the current UTC time as Twilio writes dates (RFC 2822)."""
    return format_datetime(datetime.now(timezone.utc).replace(microsecond=0))


def new_sid(prefix: str) -> str:
    """Return a new SID: `prefix` and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def segments(body: str) -> int:
    """Return how many SMS segments `body` takes (GSM-ish ASCII 160/153, else UCS-2 70/67)."""
    if not body:
        return 0
    single, multi = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


def message_resource(account_sid: str, form: dict[str, list[str]]) -> dict:
    """Return a new queued Message resource for the create request's `form`."""
    first = lambda name: form.get(name, [None])[0]  # noqa: E731
    sid, now = new_sid("SM"), now_rfc2822()
    uri = f"{API}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid, "api_version": "2010-04-01", "body": first("Body") or "",
        "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": first("From"),
        "messaging_service_sid": first("MessagingServiceSid"),
        "num_media": str(len(form.get("MediaUrl", []))), "num_segments": str(segments(first("Body") or "")),
        "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"}, "to": first("To"), "uri": f"{uri}.json",
    }


def call_resource(account_sid: str, form: dict[str, list[str]]) -> dict:
    """Return a new queued Call resource for the create request's `form`."""
    first = lambda name: form.get(name, [None])[0]  # noqa: E731
    sid, now = new_sid("CA"), now_rfc2822()
    uri = f"{API}/Accounts/{account_sid}/Calls/{sid}"
    return {
        "sid": sid, "date_created": now, "date_updated": now, "parent_call_sid": None,
        "account_sid": account_sid, "to": first("To"), "to_formatted": first("To"),
        "from": first("From"), "from_formatted": first("From"), "phone_number_sid": None,
        "status": "queued", "start_time": None, "end_time": None, "duration": None,
        "price": None, "price_unit": "USD", "direction": "outbound-api", "answered_by": None,
        "api_version": "2010-04-01", "forwarded_from": None, "group_sid": None,
        "caller_name": None, "queue_time": "0", "trunk_sid": None, "uri": f"{uri}.json",
        "subresource_uris": {
            "notifications": f"{uri}/Notifications.json", "recordings": f"{uri}/Recordings.json",
            "events": f"{uri}/Events.json",
        },
    }
