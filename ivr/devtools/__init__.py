"""Development tools that ship with the package but are never imported by the web app or the
worker: the local Twilio stand-in (`hotline fake-twilio`) and its check of requests against
Twilio's OpenAPI description."""
