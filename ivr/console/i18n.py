"""The console's words in English, Danish and Swedish, chosen by the browser's Accept-Language.

Messages are keyed by their English text; a word missing in a language reads in English.
"""
from __future__ import annotations

LANGUAGES = ("en", "da", "sv")

_DA = {
    "Hotline console": "Hotline-konsol", "Sign in": "Log ind", "Sign out": "Log ud", "User": "Bruger",
    "Password": "Adgangskode", "Now": "Nu", "Week": "Uge", "Calls": "Opkald", "Outages": "Nedbrud",
    "Config": "Konfiguration", "Service": "Tjeneste", "Keys": "Taster", "Answers now": "Svarer nu",
    "Until": "Indtil", "Then": "Derefter", "Reason": "Begrundelse", "Open outages": "Åbne nedbrud",
    "No open outages": "Ingen åbne nedbrud", "Declare outage": "Erklær nedbrud", "Restore": "Genopret",
    "Acknowledge": "Kvittér", "Resolve": "Afslut", "Export CSV": "Eksportér CSV", "Filter": "Filtrér",
    "Line": "Linje", "Caller": "Opkalder", "From": "Fra", "To": "Til", "Started": "Startet",
    "Route": "Rute", "Outcome": "Udfald", "Accepted by": "Taget af", "No calls": "Ingen opkald",
    "System": "System", "Message": "Besked", "Continue": "Fortsæt", "Cancel": "Annullér",
    "Send": "Send", "Segments": "SMS-dele", "Characters": "Tegn", "Recipients": "Modtagere",
    "This text will be sent": "Denne tekst bliver sendt", "State": "Tilstand", "Status": "Status",
    "Attempts": "Forsøg", "Resend to those that gave up": "Send igen til dem, der gav op",
    "Previous week": "Forrige uge", "Next week": "Næste uge", "This week": "Denne uge",
    "Show": "Vis", "Moment": "Tidspunkt", "What if": "Hvad nu hvis", "Decision": "Beslutning",
    "Preview a config": "Forhåndsvis en konfiguration", "Paste YAML": "Indsæt YAML",
    "Or upload a file": "Eller upload en fil", "Preview": "Forhåndsvis", "Errors": "Fejl",
    "Before": "Før", "After": "Efter", "Version": "Version", "Files": "Filer", "Loaded": "Indlæst",
    "Last refusal": "Seneste afvisning", "None": "Ingen", "Wrong user or password": "Forkert bruger eller adgangskode",
    "Too many attempts; try again later": "For mange forsøg; prøv igen senere",
    "Signed out": "Logget ud", "Your session has expired; sign in again": "Din session er udløbet; log ind igen",
    "Only admins see this page": "Kun administratorer ser denne side",
    "Declared": "Erklæret", "Restored": "Genoprettet", "Blast": "Udsendelse", "Delivery": "Levering",
    "Since": "Siden", "Hotline": "Hotline", "Menu": "Menu", "Dialled": "Ringet op", "Recording": "Optagelse",
    "Call": "Opkald", "Menu entries": "Menuvalg", "Week picture": "Ugebillede",
    "Navigation": "Navigation", "Signed in as": "Logget ind som", "until": "indtil",
    "Time span": "Tidsrum", "Updates every few seconds while sending": "Opdateres hvert par sekunder under afsendelse",
    "Queued again": "Sat i kø igen", "Declare or restore": "Erklær eller genopret",
    "Outage": "Nedbrud", "no change within a year": "ingen ændring inden for et år",
    "Config preview is fine": "Konfigurationen er i orden", "Incidents": "Hændelser",
    "service desk": "servicedesk", "on call": "vagt", "emergency": "beredskab", "closed": "lukket",
    "Incident": "Hændelse", "No incidents": "Ingen hændelser", "Note": "Note",
    "Missed calls waiting for someone": "Ubesvarede opkald, som venter på nogen",
    "Acknowledged by": "Kvitteret af", "Resolved by": "Afsluttet af", "Paged": "Sendt SMS til",
    "missed": "ubesvaret", "answered": "besvaret", "acknowledged": "kvitteret", "resolved": "afsluttet",
}
_SV = {
    "Hotline console": "Hotline-konsol", "Sign in": "Logga in", "Sign out": "Logga ut", "User": "Användare",
    "Password": "Lösenord", "Now": "Nu", "Week": "Vecka", "Calls": "Samtal", "Outages": "Driftstopp",
    "Config": "Konfiguration", "Service": "Tjänst", "Keys": "Knappval", "Answers now": "Svarar nu",
    "Until": "Till", "Then": "Sedan", "Reason": "Skäl", "Open outages": "Pågående driftstopp",
    "No open outages": "Inga pågående driftstopp", "Declare outage": "Utlys driftstopp", "Restore": "Återställ",
    "Acknowledge": "Kvittera", "Resolve": "Avsluta", "Export CSV": "Exportera CSV", "Filter": "Filtrera",
    "Line": "Linje", "Caller": "Uppringare", "From": "Från", "To": "Till", "Started": "Startat",
    "Route": "Väg", "Outcome": "Utfall", "Accepted by": "Besvarat av", "No calls": "Inga samtal",
    "System": "System", "Message": "Meddelande", "Continue": "Fortsätt", "Cancel": "Avbryt",
    "Send": "Skicka", "Segments": "SMS-delar", "Characters": "Tecken", "Recipients": "Mottagare",
    "This text will be sent": "Den här texten skickas", "State": "Läge", "Status": "Status",
    "Attempts": "Försök", "Resend to those that gave up": "Skicka igen till dem som gav upp",
    "Previous week": "Föregående vecka", "Next week": "Nästa vecka", "This week": "Denna vecka",
    "Show": "Visa", "Moment": "Tidpunkt", "What if": "Tänk om", "Decision": "Beslut",
    "Preview a config": "Förhandsgranska en konfiguration", "Paste YAML": "Klistra in YAML",
    "Or upload a file": "Eller ladda upp en fil", "Preview": "Förhandsgranska", "Errors": "Fel",
    "Before": "Före", "After": "Efter", "Version": "Version", "Files": "Filer", "Loaded": "Inläst",
    "Last refusal": "Senaste avvisning", "None": "Ingen", "Wrong user or password": "Fel användare eller lösenord",
    "Too many attempts; try again later": "För många försök; försök igen senare",
    "Signed out": "Utloggad", "Your session has expired; sign in again": "Din session har gått ut; logga in igen",
    "Only admins see this page": "Endast administratörer ser den här sidan",
    "Declared": "Utlyst", "Restored": "Återställd", "Blast": "Utskick", "Delivery": "Leverans",
    "Since": "Sedan", "Hotline": "Hotline", "Menu": "Meny", "Dialled": "Uppringda", "Recording": "Inspelning",
    "Call": "Samtal", "Menu entries": "Menyval", "Week picture": "Veckobild",
    "Navigation": "Navigering", "Signed in as": "Inloggad som", "until": "till",
    "Time span": "Tidsspann", "Updates every few seconds while sending": "Uppdateras med några sekunders mellanrum under utskick",
    "Queued again": "Köade igen", "Declare or restore": "Utlys eller återställ",
    "Outage": "Driftstopp", "no change within a year": "ingen ändring inom ett år",
    "Config preview is fine": "Konfigurationen är i sin ordning", "Incidents": "Ärenden",
    "service desk": "servicedesk", "on call": "jour", "emergency": "beredskap", "closed": "stängt",
    "Incident": "Ärende", "No incidents": "Inga ärenden", "Note": "Anteckning",
    "Missed calls waiting for someone": "Obesvarade samtal som väntar på någon",
    "Acknowledged by": "Kvitterat av", "Resolved by": "Avslutat av", "Paged": "SMS skickat till",
    "missed": "obesvarat", "answered": "besvarat", "acknowledged": "kvitterat", "resolved": "avslutat",
}
CATALOG = {"en": {}, "da": _DA, "sv": _SV}


def pick(accept_languages) -> str:
    """Return "da", "sv" or "en" for a werkzeug LanguageAccept (English when nothing matches)."""
    for tag, _quality in accept_languages:  # werkzeug keeps them best first
        primary = str(tag).split("-")[0].split("_")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "en"


def translate(language: str, text: str) -> str:
    """Return `text` (English) in `language`, or unchanged when the catalog lacks it."""
    return CATALOG.get(language, {}).get(text, text)
