"""The kill switch as `decoy_ops kill-switch` shows it; reading and turning it are shared with
the local console (decoy.controls)."""

from __future__ import annotations

from decoy.controls import kill_switch_is_on as is_on
from decoy.controls import read_kill_switch as read
from decoy.controls import turn_kill_switch as turn

__all__ = ["explain", "is_on", "read", "turn"]


def explain(value: str | None, lang: str = "en") -> str:
    """The switch's state in a sentence (French: the caller applies the typography)."""
    fr = lang == "fr"
    if value is None:
        return ("ACTIF (paramètre absent : par sécurité, les fonctions n'envoient rien)" if fr
                else "ON (parameter missing: the functions fail closed and send nothing)")
    if is_on(value):
        return ("ACTIF : aucune réponse n'est prévue et aucune réponse en attente n'est "
                "envoyée (celles en attente sont abandonnées à leur heure)" if fr else
                "ON: no reply is scheduled and no pending reply is sent (pending ones are "
                "dropped when they fire)")
    return ("inactif : les réponses sont prévues et envoyées normalement" if fr else
            "off: replies are scheduled and sent normally")
