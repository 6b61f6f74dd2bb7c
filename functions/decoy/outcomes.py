"""Every outcome and metric name the functions emit, defined once, each with a sentence for people.

Codes (the enum values) go to logs, metrics, JSON and the alarms; people read the sentence
(`Outcome.BlockedCountry.sentence("fr")`). Adding an outcome touches this module and its test
(tests/unit/test_outcomes.py), nothing else.
"""

from __future__ import annotations

import re
from enum import StrEnum

LANGUAGES = ("en", "fr")


class _Named(StrEnum):
    """A metric name that also says what it means, in English or French."""

    def sentence(self, lang: str = "en") -> str:
        en, fr = SENTENCES[self]
        return french_typography(fr) if lang == "fr" else en


NARROW_NBSP = "\u202f"  # U+202F: French puts it before : ; ! ? and inside « »
_BEFORE = re.compile(r"[ \u00a0]+([:;!?])")


def french_typography(text: str) -> str:
    """A narrow no-break space before : ; ! ? and inside « », so a line never breaks before a
    colon (Imprimerie nationale's rules; the console, the simulator and the kit use it)."""
    text = _BEFORE.sub(NARROW_NBSP + r"\1", text)
    return re.sub(r"«[ \u00a0]*", "«" + NARROW_NBSP, re.sub(r"[ \u00a0]*»", NARROW_NBSP + "»",
                                                            text))


class Outcome(_Named):
    """What happened to one webhook (receiver) or one reply order (sender); each is a metric."""

    # The receiver, for a message or a call
    Scheduled = "Scheduled"
    Counted = "Counted"
    Duplicate = "Duplicate"
    BlockedQuota = "BlockedQuota"
    BlockedBudget = "BlockedBudget"
    BlockedCountry = "BlockedCountry"
    BlockedCallAllowance = "BlockedCallAllowance"
    KillSwitch = "KillSwitch"  # also the sender's: a pending reply dropped
    OptedOut = "OptedOut"  # also the sender's
    StoreFailed = "StoreFailed"
    ScheduleFailed = "ScheduleFailed"
    # The sender
    Sent = "Sent"
    SendFailed = "SendFailed"
    SendUncertain = "SendUncertain"
    AlreadyHandled = "AlreadyHandled"
    UnknownCampaign = "UnknownCampaign"
    InvalidOrder = "InvalidOrder"
    OptOutRecorded = "OptOutRecorded"


class Metric(_Named):
    """Every other count the functions emit (the families are functions below)."""

    Received = "Received"
    BudgetUsed = "BudgetUsed"
    ForgedSignature = "ForgedSignature"
    BadRequest = "BadRequest"
    UnknownNumber = "UnknownNumber"
    SecretsUnavailable = "SecretsUnavailable"
    CallAnswered = "CallAnswered"
    CallRejected = "CallRejected"
    OptOut = "OptOut"
    OptOutQueued = "OptOutQueued"
    OptOutFailed = "OptOutFailed"
    UsageTriggerFired = "UsageTriggerFired"
    KillSwitchFailed = "KillSwitchFailed"
    OffAirRequested = "OffAirRequested"  # a level-2 trigger fired: the order is queued
    OffAir = "OffAir"  # the numbers were taken off the air
    OffAirFailed = "OffAirFailed"  # could not queue or apply it: retried, alarmed
    OffAirRefused = "OffAirRefused"  # a Messaging Service serving other numbers: left alone
    SendRetried = "SendRetried"
    SendDropped = "SendDropped"
    SendResolved = "SendResolved"
    SendInProgress = "SendInProgress"
    SendUnrecorded = "SendUnrecorded"


# The receiver's outcomes of a message or a call (the sender's are the others).
RECEIVER_OUTCOMES = (Outcome.Scheduled, Outcome.Counted, Outcome.Duplicate, Outcome.BlockedQuota,
                     Outcome.BlockedBudget, Outcome.BlockedCountry, Outcome.BlockedCallAllowance,
                     Outcome.KillSwitch, Outcome.OptedOut, Outcome.StoreFailed,
                     Outcome.ScheduleFailed)
# A call with one of these outcomes is answered with the voicemail; any other is rejected (busy).
ANSWERED_CALL = frozenset({Outcome.Scheduled, Outcome.Counted, Outcome.Duplicate,
                           Outcome.BlockedBudget, Outcome.ScheduleFailed})
# Counts kept beside an outcome, not an outcome of their own (a webhook is Received, then
# Scheduled, and a unit of the budget is used).
BOOKKEEPING = (Metric.Received, Metric.BudgetUsed)

# Families: one metric per delivery status or error code.
DELIVERY_STATUSES = frozenset({"queued", "sending", "sent", "delivered", "undelivered", "failed",
                               "partially_delivered", "read", "accepted", "scheduled", "canceled"})
STATUS_PREFIX = "Status"
ERROR_PREFIX = "Error"
SEND_ERROR_PREFIX = "SendError"


def metric_name(prefix: str, status: str) -> str:
    """('Status', 'partially_delivered') -> 'StatusPartiallyDelivered'."""
    return prefix + "".join(part.capitalize() for part in status.split("_"))


def status_metric(status: str) -> str:
    """A delivery status callback's count: 'delivered' -> 'StatusDelivered'."""
    return metric_name(STATUS_PREFIX, status)


STATUS_METRICS = {status_metric(s): s for s in sorted(DELIVERY_STATUSES)}  # name: status


def error_metric(code: str | int) -> str:
    """A status callback's ErrorCode: 30007 -> 'Error30007'."""
    return f"{ERROR_PREFIX}{code}"


def send_error_metric(code: str | int | None) -> str:
    """A permanent Twilio error when sending: 21408 -> 'SendError21408'."""
    return f"{SEND_ERROR_PREFIX}{code}"


def is_family_metric(name: str) -> bool:
    """A name of one of the families (StatusX, Error123, SendError123)."""
    for prefix in (SEND_ERROR_PREFIX, ERROR_PREFIX):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return True
    return name in STATUS_METRICS


def is_metric(name: str) -> bool:
    """True for every name the functions may emit."""
    return name in Outcome.__members__ or name in Metric.__members__ or is_family_metric(name)


def sentence(name: str, lang: str = "en") -> str:
    """The sentence for any metric name (families included); the name itself if unknown."""
    if name in Outcome.__members__:
        return Outcome(name).sentence(lang)
    if name in Metric.__members__:
        return Metric(name).sentence(lang)
    fr = lang == "fr"
    text = _family_sentence(name, fr)
    return french_typography(text) if fr else text


def _family_sentence(name: str, fr: bool) -> str:
    if name.startswith(SEND_ERROR_PREFIX) and is_family_metric(name):
        code = name[len(SEND_ERROR_PREFIX):]
        return (f"L'opérateur a refusé la réponse (erreur {code}) : elle ne sera pas renvoyée."
                if fr else f"The carrier refused the reply (error {code}): it is not retried.")
    if name.startswith(ERROR_PREFIX) and is_family_metric(name):
        code = name[len(ERROR_PREFIX):]
        return (f"Une réponse n'a pas été remise (erreur {code})." if fr
                else f"A reply was not delivered (error {code}).")
    if is_family_metric(name):
        status = STATUS_METRICS[name]
        return (f"État de remise d'une réponse : {STATUS_FR[status]}." if fr
                else f"A reply's delivery state: {status.replace('_', ' ')}.")
    return name


# A delivery status as French says it of a reply (feminine: « la réponse »).
STATUS_FR = {"queued": "en file d'attente", "sending": "en cours d'envoi", "sent": "envoyée",
             "delivered": "remise", "undelivered": "non remise", "failed": "échec",
             "partially_delivered": "remise en partie", "read": "lue", "accepted": "acceptée",
             "scheduled": "prévue", "canceled": "annulée"}

STATUS_FR_ROWS = {"queued": "en file d'attente", "sending": "en cours d'envoi", "sent": "envoyées",
                  "delivered": "remises", "undelivered": "non remises", "failed": "en échec",
                  "partially_delivered": "remises en partie", "read": "lues",
                  "accepted": "acceptées", "scheduled": "prévues", "canceled": "annulées"}


def label(name: str, lang: str = "en") -> str:
    """A count's short name for a table row ('replies planned', « réponses prévues »), in the
    words of its sentence; the sentence itself for a name without one."""
    fr = lang == "fr"
    if name in LABELS:
        en_label, fr_label = LABELS[name]
        return french_typography(fr_label) if fr else en_label
    if is_family_metric(name) and not name.startswith((ERROR_PREFIX, SEND_ERROR_PREFIX)):
        status = STATUS_METRICS[name]
        return f"réponses {STATUS_FR_ROWS[status]}" if fr else \
            f"replies {status.replace('_', ' ')}"
    for prefix, en_label, fr_label in ((SEND_ERROR_PREFIX, "refused by the carrier",
                                        "refusées par l'opérateur"),
                                       (ERROR_PREFIX, "not delivered", "non remises")):
        if name.startswith(prefix) and is_family_metric(name):
            code = name[len(prefix):]
            return f"{fr_label} (erreur {code})" if fr else f"{en_label} (error {code})"
    return sentence(name, lang)


def metric_sentences(lang: str = "en") -> dict[str, str]:
    """Every outcome and metric name with its sentence in `lang` (the local console's table)."""
    return {str(name): name.sentence(lang) for name in [*Outcome, *Metric]}


# (English, French): one plain sentence each, no protocol words.
SENTENCES: dict[StrEnum, tuple[str, str]] = {
    Outcome.Scheduled: (
        "One reply is on its way and will arrive after the delay.",
        "Une réponse est prévue : elle partira une fois le délai écoulé."),
    Outcome.Counted: (
        "Noted: this person already has a reply on its way, one is enough.",
        "Message compté : cette personne a déjà une réponse prévue, une seule suffit."),
    Outcome.Duplicate: (
        "The same message arrived twice: nothing new is done.",
        "Le même message est arrivé deux fois : rien de plus n'est fait."),
    Outcome.BlockedQuota: (
        "This person has sent too many messages: they are ignored, no reply.",
        "Cette personne a envoyé trop de messages : ils sont ignorés, sans réponse."),
    Outcome.BlockedBudget: (
        "Today's reply budget is spent: no reply will be sent.",
        "Le budget de réponses du jour est épuisé : aucune réponse ne sera envoyée."),
    Outcome.BlockedCountry: (
        "This number is not in the allowed countries: no reply will be sent.",
        "Ce numéro n'est pas dans les pays autorisés : aucune réponse ne sera envoyée."),
    Outcome.BlockedCallAllowance: (
        "Today's allowance of answered calls is spent: the call is not picked up.",
        "Le nombre d'appels pris en charge aujourd'hui est atteint : cet appel n'est pas "
        "décroché."),
    Outcome.KillSwitch: (
        "The service is switched off: nothing is sent.",
        "Le service est coupé : rien n'est envoyé."),
    Outcome.OptedOut: (
        "This person asked to receive nothing more: nothing is sent.",
        "Cette personne a demandé à ne plus rien recevoir : rien n'est envoyé."),
    Outcome.StoreFailed: (
        "The counters could not be updated: to be safe, no reply will be sent.",
        "Les compteurs n'ont pas pu être mis à jour : par prudence, aucune réponse ne sera "
        "envoyée."),
    Outcome.ScheduleFailed: (
        "The reply could not be planned: to be safe, nothing will be sent.",
        "La réponse n'a pas pu être prévue : par prudence, rien ne sera envoyé."),
    Outcome.Sent: (
        "The reply was sent.",
        "La réponse a été envoyée."),
    Outcome.SendFailed: (
        "The reply could not be sent, and trying again would not help.",
        "La réponse n'a pas pu être envoyée, et réessayer n'y changerait rien."),
    Outcome.SendUncertain: (
        "It is unclear whether the reply left: it is not sent again, an operator is warned.",
        "On ne sait pas si la réponse est partie : elle n'est pas renvoyée, une alerte est "
        "déclenchée."),
    Outcome.AlreadyHandled: (
        "This reply was already handled: it is not sent twice.",
        "Cette réponse a déjà été traitée : elle n'est pas envoyée deux fois."),
    Outcome.UnknownCampaign: (
        "The reply belongs to a campaign that no longer exists: it is dropped.",
        "La réponse appartient à une campagne qui n'existe plus : elle est abandonnée."),
    Outcome.InvalidOrder: (
        "The planned reply was unreadable: it is dropped.",
        "La réponse prévue était illisible : elle est abandonnée."),
    Outcome.OptOutRecorded: (
        "A delayed stop request is now recorded: this person gets nothing more.",
        "Une demande d'arrêt en attente est enregistrée : cette personne ne recevra plus rien."),
    Metric.Received: (
        "A message or a call arrived.",
        "Un message ou un appel est arrivé."),
    Metric.BudgetUsed: (
        "One reply was taken from today's budget.",
        "Une réponse a été décomptée du budget du jour."),
    Metric.ForgedSignature: (
        "A request did not come from the phone provider: it is refused.",
        "Une requête ne venait pas de l'opérateur téléphonique : elle est refusée."),
    Metric.BadRequest: (
        "A malformed request was refused.",
        "Une requête mal formée a été refusée."),
    Metric.UnknownNumber: (
        "A message arrived for a number that is in no campaign: it is refused.",
        "Un message est arrivé sur un numéro d'aucune campagne : il est refusé."),
    Metric.SecretsUnavailable: (
        "The service could not read its secrets: the request is refused for now.",
        "Le service n'a pas pu lire ses secrets : la requête est refusée pour l'instant."),
    Metric.CallAnswered: (
        "A call was picked up by the voicemail greeting.",
        "Un appel a été pris par le répondeur (message d'accueil)."),
    Metric.CallRejected: (
        "A call was not picked up: the caller hears a busy line, nothing is billed.",
        "Un appel n'a pas été décroché : l'appelant entend « occupé », rien n'est facturé."),
    Metric.OptOut: (
        "Stop request: this person will never get a message again.",
        "Demande d'arrêt : cette personne ne recevra plus jamais de message."),
    Metric.OptOutQueued: (
        "Stop request put aside, to be recorded a minute later: nothing is sent meanwhile.",
        "Demande d'arrêt mise de côté, enregistrée une minute plus tard : rien n'est envoyé "
        "d'ici là."),
    Metric.OptOutFailed: (
        "A stop request could not be recorded: an operator is warned.",
        "Une demande d'arrêt n'a pas pu être enregistrée : une alerte est déclenchée."),
    Metric.UsageTriggerFired: (
        "The spending alert fired: the service switches itself off.",
        "L'alerte de dépense s'est déclenchée : le service se coupe."),
    Metric.KillSwitchFailed: (
        "The spending alert fired but the service could not switch itself off: do it by hand.",
        "L'alerte de dépense s'est déclenchée mais le service n'a pas pu se couper : "
        "coupez-le à la main."),
    Metric.OffAirRequested: (
        "The second spending alert fired: the numbers are being taken off the air.",
        "La seconde alerte de dépense s'est déclenchée : les numéros sont débranchés."),
    Metric.OffAir: (
        "The numbers are off the air: messages and calls no longer reach the service, and "
        "are no longer billed.",
        "Les numéros sont débranchés : messages et appels n'arrivent plus au service et ne "
        "sont plus facturés."),
    Metric.OffAirFailed: (
        "The numbers could not be taken off the air: it is retried; an operator is warned.",
        "Les numéros n'ont pas pu être débranchés : le service réessaie, une alerte est "
        "déclenchée."),
    Metric.OffAirRefused: (
        "A messaging service shared with other numbers was left alone: its messages are "
        "still billed.",
        "Un service de messagerie partagé avec d'autres numéros n'a pas été touché : ses "
        "messages restent facturés."),
    Metric.SendRetried: (
        "A reply was not sent yet: it will be tried again.",
        "Une réponse n'est pas encore partie : elle sera réessayée."),
    Metric.SendDropped: (
        "A reply that could never be sent was dropped.",
        "Une réponse impossible à envoyer a été abandonnée."),
    Metric.SendResolved: (
        "An unclear sending answer was checked: the reply did leave once.",
        "Un envoi au résultat incertain a été vérifié : la réponse est bien partie, une seule "
        "fois."),
    Metric.SendInProgress: (
        "An earlier attempt holds this reply: it is not sent twice.",
        "Une tentative précédente s'occupe déjà de cette réponse : pas de double envoi."),
    Metric.SendUnrecorded: (
        "A reply was handled but could not be marked as done.",
        "Une réponse a été traitée, mais cela n'a pas pu être enregistré."),
}


# (English, French): a short row name for each count, the words of its sentence above.
LABELS: dict[str, tuple[str, str]] = {
    Metric.Received: ("messages and calls received", "messages et appels reçus"),
    Metric.CallAnswered: ("calls picked up by the voicemail", "appels pris par le répondeur"),
    Metric.CallRejected: ("calls not picked up (busy)", "appels non décrochés (occupé)"),
    Outcome.Scheduled: ("replies planned", "réponses prévues"),
    Outcome.Counted: ("reply already planned", "réponse déjà prévue"),
    Outcome.Sent: ("replies sent", "réponses envoyées"),
    Outcome.Duplicate: ("same message twice", "messages reçus en double"),
    Outcome.BlockedQuota: ("ignored: too many messages", "ignorés : trop de messages"),
    Outcome.BlockedBudget: ("blocked: today's budget spent", "bloqués : budget du jour épuisé"),
    Outcome.BlockedCountry: ("blocked: country not allowed", "bloqués : pays non autorisé"),
    Outcome.BlockedCallAllowance: ("calls not picked up: allowance spent",
                                   "appels non décrochés : quota du jour atteint"),
    Outcome.KillSwitch: ("blocked: service switched off", "bloqués : service coupé"),
    Outcome.OptedOut: ("blocked: asked to stop", "bloqués : demande d'arrêt"),
    Outcome.StoreFailed: ("blocked: counters unavailable", "bloqués : compteurs indisponibles"),
    Outcome.ScheduleFailed: ("blocked: reply could not be planned",
                             "bloqués : réponse impossible à prévoir"),
    Outcome.SendFailed: ("replies that could not be sent", "réponses impossibles à envoyer"),
    Outcome.SendUncertain: ("replies in doubt (alert)", "réponses incertaines (alerte)"),
    Outcome.AlreadyHandled: ("replies already handled", "réponses déjà traitées"),
    Outcome.UnknownCampaign: ("dropped: campaign gone", "abandonnées : campagne disparue"),
    Outcome.InvalidOrder: ("dropped: unreadable", "abandonnées : illisibles"),
    Outcome.OptOutRecorded: ("delayed stop requests recorded",
                             "demandes d'arrêt enregistrées en différé"),
    Metric.BudgetUsed: ("replies taken from the budget", "réponses décomptées du budget"),
    Metric.ForgedSignature: ("fake requests", "fausses requêtes"),
    Metric.BadRequest: ("malformed requests", "requêtes mal formées"),
    Metric.UnknownNumber: ("for a number in no campaign", "pour un numéro hors campagne"),
    Metric.SecretsUnavailable: ("refused: secrets unreadable", "refusés : secrets illisibles"),
    Metric.OptOut: ("stop requests", "demandes d'arrêt"),
    Metric.OptOutQueued: ("stop requests put aside", "demandes d'arrêt mises de côté"),
    Metric.OptOutFailed: ("stop requests not recorded", "demandes d'arrêt non enregistrées"),
    Metric.UsageTriggerFired: ("spending alerts", "alertes de dépense"),
    Metric.KillSwitchFailed: ("failed automatic switch-offs", "coupures automatiques ratées"),
    Metric.OffAirRequested: ("second spending alerts", "secondes alertes de dépense"),
    Metric.OffAir: ("numbers switched off", "numéros débranchés"),
    Metric.OffAirFailed: ("numbers not switched off", "numéros non débranchés"),
    Metric.OffAirRefused: ("shared messaging services left on",
                           "services de messagerie partagés laissés actifs"),
    Metric.SendRetried: ("replies to try again", "réponses à réessayer"),
    Metric.SendDropped: ("replies dropped", "réponses abandonnées"),
    Metric.SendResolved: ("unclear sends checked", "envois incertains vérifiés"),
    Metric.SendInProgress: ("already being sent", "déjà en cours d'envoi"),
    Metric.SendUnrecorded: ("handled, not recorded", "traitées, non enregistrées"),
}
