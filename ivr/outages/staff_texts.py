"""What the staff entry says, in Danish, Swedish and English (by the hotline's language)."""
from __future__ import annotations

from ivr.outages.texts import lang

TEXTS: dict[str, dict[str, str]] = {
    "not_available": {
        "da": "Denne funktion er ikke tilgængelig.",
        "sv": "Den här funktionen är inte tillgänglig.",
        "en": "This function is not available.",
    },
    "locked": {
        "da": "For mange forkerte koder. Prøv igen senere.",
        "sv": "För många felaktiga koder. Försök igen senare.",
        "en": "Too many wrong codes. Please try again later.",
    },
    "pin": {
        "da": "Indtast din kode, og afslut med firkant.",
        "sv": "Slå din kod och avsluta med fyrkant.",
        "en": "Enter your code, followed by the hash key.",
    },
    "wrong_pin": {"da": "Forkert kode.", "sv": "Fel kod.", "en": "Wrong code."},
    "action": {
        "da": "Tryk 1 for at melde et nedbrud. Tryk 2 for at melde, at det virker igen.",
        "sv": "Tryck 1 för att anmäla ett avbrott. Tryck 2 för att anmäla att det fungerar igen.",
        "en": "Press 1 to declare an outage. Press 2 to declare it restored.",
    },
    "system": {"da": "Tryk {key} for {name}.", "sv": "Tryck {key} för {name}.", "en": "Press {key} for {name}."},
    "invalid": {"da": "Det valg findes ikke.", "sv": "Det valet finns inte.", "en": "That is not an option."},
    "declared": {
        "da": "Nedbrud på {system} er meldt. Der sendes SMS til {count} modtagere.",
        "sv": "Avbrott i {system} är anmält. Sms skickas till {count} mottagare.",
        "en": "The outage of {system} is declared. Text messages go to {count} recipients.",
    },
    "already_open": {
        "da": "Nedbruddet på {system} er allerede meldt. Der sendes ikke SMS igen.",
        "sv": "Avbrottet i {system} är redan anmält. Inga nya sms skickas.",
        "en": "The outage of {system} was already declared. No messages are sent again.",
    },
    "restored": {
        "da": "{system} er meldt i drift igen. Der sendes SMS til {count} modtagere.",
        "sv": "{system} är anmält som i drift igen. Sms skickas till {count} mottagare.",
        "en": "{system} is declared restored. Text messages go to {count} recipients.",
    },
    "none_open": {
        "da": "Der er ikke noget åbent nedbrud på {system}.",
        "sv": "Det finns inget öppet avbrott i {system}.",
        "en": "There is no open outage of {system}.",
    },
    "failed": {
        "da": "Det lykkedes ikke. Brug i stedet kommandolinjen eller ring til servicedesken.",
        "sv": "Det gick inte. Använd kommandoraden eller ring servicedesken.",
        "en": "That did not work. Please use the command line or call the service desk.",
    },
    "goodbye": {"da": "Farvel.", "sv": "Hej då.", "en": "Goodbye."},
}


def say(name: str, language: str, /, **values: object) -> str:
    """Return sentence `name` in the hotline's language (English when unknown); KeyError if no such name."""
    table = TEXTS[name]
    template = table.get(lang(language), table["en"])
    return template.format(**values) if values else template
