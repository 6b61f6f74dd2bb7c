"""TwiML answers: empty for SMS, a neutral voicemail or a busy rejection for calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: webhook imports this module, and need not load campaigns
    from decoy.campaigns import Voicemail

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY = XML_HEAD + "<Response/>"
# <Reject> as the first verb is the only answer Twilio neither picks up nor bills.
REJECT = XML_HEAD + '<Response><Reject reason="busy"/></Response>'


def voicemail(greeting: Voicemail) -> str:
    """The campaign's greeting, a silence as if listening, then hang-up; never a <Record>."""
    # Escapes the XML we write; nothing here parses XML. Imported on the first call answered:
    # the receiver's cold start (and a container that only gets SMS) never loads xml.sax.
    from xml.sax.saxutils import escape, quoteattr  # nosec B406

    if greeting.play:
        verb = f"<Play>{escape(greeting.play)}</Play>"
    else:
        voice = f" voice={quoteattr(greeting.voice)}" if greeting.voice else ""
        verb = (f"<Say language={quoteattr(greeting.language)}{voice}>"
                f"{escape(greeting.say or '')}</Say>")
    return (f'{XML_HEAD}<Response>{verb}<Pause length="{greeting.listen_seconds}"/>'
            "<Hangup/></Response>")
