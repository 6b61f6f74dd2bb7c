"""Text-to-speech voices Twilio's <Say> accepts, by language: a wrong pair fails the call."""

from __future__ import annotations

import re

# Amazon Polly voices as Twilio names them (Twilio's Text-to-Speech voice table), for the
# languages a deployment here is likely to use. Add a line when you need another voice.
POLLY_VOICES: dict[str, tuple[str, ...]] = {
    "fr-FR": ("Lea", "Celine", "Mathieu", "Lea-Neural", "Remi-Neural"),
    "fr-BE": ("Isabelle-Neural",),
    "fr-CA": ("Chantal", "Gabrielle-Neural", "Liam-Neural"),
    "nl-NL": ("Lotte", "Ruben", "Laura-Neural"),
    "nl-BE": ("Lisa-Neural",),
    "en-GB": ("Amy", "Brian", "Emma", "Amy-Neural", "Brian-Neural", "Emma-Neural",
              "Arthur-Neural"),
    "en-US": ("Joanna", "Matthew", "Salli", "Kendra", "Kimberly", "Joey", "Justin", "Ivy",
              "Joanna-Neural", "Matthew-Neural", "Salli-Neural", "Ruth-Neural",
              "Stephen-Neural", "Danielle-Neural", "Gregory-Neural"),
    "en-IE": ("Niamh-Neural",),
    "de-DE": ("Hans", "Marlene", "Vicki", "Vicki-Neural", "Daniel-Neural"),
    "es-ES": ("Conchita", "Enrique", "Lucia", "Lucia-Neural", "Sergio-Neural"),
    "it-IT": ("Bianca", "Carla", "Giorgio", "Bianca-Neural", "Adriano-Neural"),
    "pt-PT": ("Cristiano", "Ines", "Ines-Neural"),
}
_POLLY_LANGUAGE = {f"Polly.{name}": lang for lang, names in POLLY_VOICES.items()
                   for name in names}
_GOOGLE = re.compile(r"Google\.([a-z]{2,3}-[A-Z]{2})-(Standard|Wavenet|Neural2)-[A-Z]\Z")
BASIC_VOICES = frozenset({"man", "woman"})


def voice_problem(voice: str, language: str) -> str | None:
    """Why `voice` cannot speak `language` in Twilio's <Say> (None when it can)."""
    if voice in BASIC_VOICES:
        return None
    if voice.startswith("Polly."):
        spoken = _POLLY_LANGUAGE.get(voice)
        if spoken is None:
            return (f"{voice} is not a known Polly voice (known for {language}: "
                    f"{', '.join(POLLY_VOICES.get(language, ())) or 'none'})")
        return None if spoken == language else f"{voice} speaks {spoken}, not {language}"
    google = _GOOGLE.fullmatch(voice)
    if google:
        return None if google.group(1) == language else \
            f"{voice} speaks {google.group(1)}, not {language}"
    return f"{voice} is not man, woman, Polly.<Name> or Google.<lang>-<type>-<letter>"
