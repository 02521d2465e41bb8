"""Fixed sentences the hotline speaks, in Danish, Swedish and English (by the hotline's language)."""
from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "emergency_112": {
        "da": "Er et liv i fare, så læg på og ring 112.",
        "sv": "Om ett liv är i fara, lägg på och ring 112.",
        "en": "If a life is at risk, hang up and call 112.",
    },
    "unknown_line": {
        "da": "Dette nummer er ikke en aktiv nedbrudslinje. Farvel.",
        "sv": "Det här numret är inte en aktiv avbrottslinje. Hej då.",
        "en": "This number is not an active outage hotline. Goodbye.",
    },
    "error": {
        "da": "Beklager, der opstod en fejl. Vi stiller dig videre.",
        "sv": "Tyvärr uppstod ett fel. Vi kopplar dig vidare.",
        "en": "Sorry, something went wrong. We are putting you through.",
    },
    "calling": {
        "da": "Vi ringer til {name}.",
        "sv": "Vi ringer {name}.",
        "en": "Calling {name}.",
    },
    "next_step": {
        "da": "Der blev ikke svaret. Vi prøver den næste.",
        "sv": "Ingen svarade. Vi försöker med nästa.",
        "en": "There was no answer. Trying the next contact.",
    },
    "whisper": {
        "da": "Opkald fra {hotline} om: {service}. Tryk 1 for at tage opkaldet.",
        "sv": "Samtal från {hotline} om: {service}. Tryck 1 för att ta samtalet.",
        "en": "Call from {hotline} about: {service}. Press 1 to take the call.",
    },
    "connecting": {"da": "Du stilles igennem.", "sv": "Du kopplas nu.", "en": "Connecting you now."},
    "nobody": {
        "da": "Det lykkedes ikke at få fat i nogen. Prøv igen om lidt.",
        "sv": "Vi fick inte tag på någon. Försök igen om en stund.",
        "en": "We could not reach anyone. Please try again shortly.",
    },
    "voicemail": {
        "da": "Indtal din besked efter tonen, og tryk firkant, når du er færdig.",
        "sv": "Tala in ditt meddelande efter tonen och tryck fyrkant när du är klar.",
        "en": "Leave your message after the tone and press the hash key when you are done.",
    },
    "recorded": {
        "da": "Tak. Din besked er gemt. Farvel.",
        "sv": "Tack. Ditt meddelande är sparat. Hej då.",
        "en": "Thank you. Your message has been saved. Goodbye.",
    },
    "no_recording": {
        "da": "Vi modtog ingen besked. Farvel.",
        "sv": "Vi fick inget meddelande. Hej då.",
        "en": "We did not receive a message. Goodbye.",
    },
    "no_key": {"da": "Vi hørte ikke noget.", "sv": "Vi hörde inget.", "en": "We did not hear anything."},
    "goodbye": {"da": "Farvel.", "sv": "Hej då.", "en": "Goodbye."},
}


def lang_of(language: str | None) -> str:
    """Return the two-letter language of a Twilio language tag ("da-DK" -> "da"), "en" when unknown."""
    short = (language or "en").split("-")[0].lower()
    return short if short in ("da", "sv", "en") else "en"


def text(name: str, language: str | None, /, **fields: str) -> str:
    """Return the sentence `name` in the hotline's language with `fields` filled in; KeyError if unknown."""
    template = TEXTS[name][lang_of(language)]
    return template.format(**fields) if fields else template
