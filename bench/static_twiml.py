"""The baseline for bench/voice_bench.py: a Flask app that answers every POST with fixed TwiML."""
from flask import Flask, Response

TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/menu" input="dtmf" '
         'numDigits="1"><Say>Static.</Say></Gather></Response>')

app = Flask("static_twiml")


@app.post("/<path:anything>", endpoint="twiml")
def static_twiml(anything: str) -> Response:
    return Response(TWIML, mimetype="text/xml")
