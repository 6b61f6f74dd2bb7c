"""What the sender does for one fired schedule: re-check the shield, then send exactly once."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from botocore.exceptions import BotoCoreError, ClientError

from decoy import optout, shield
from decoy.campaigns import REPLY, Campaign
from decoy.observability import count, logger, set_campaign
from decoy.outcomes import Metric, Outcome, send_error_metric
from decoy.parameters import ParameterError
from decoy.phone import mask
from decoy.runtime import Runtime, Secrets
from decoy.schedule import ReplyOrder
from decoy.settings import Delivery

# Twilio errors a retry cannot fix: invalid To, no geo permission, opted out, landline, ...
PERMANENT_ERRORS = frozenset({21211, 21408, 21610, 21612, 21614, 21606, 21659, 21660, 30450,
                              30453})
TRANSIENT_ERRORS = frozenset({20429, 20500, 20503})
OPTED_OUT_ERROR = 21610
IDEMPOTENCY_SECONDS = 3 * 86400  # longer than any scheduler retry window
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs To and Body at INFO
# We deliberately register no lambda context (see _send_once): silence powertools' reminder.
warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")


class TransientSendError(Exception):
    """Twilio surely did not take the message: raising lets Lambda retry, then the DLQ."""


class SendInProgress(TransientSendError):
    """An earlier attempt holds this order's idempotency record (running, or crashed or
    unrecorded after a send): never send again; raise, so a stuck record ends in the DLQ."""


def is_transient(status: int, code: int | None) -> bool:
    """429 only: Twilio refused the request, so no message exists. A 5xx may come from
    Twilio's edge after the message was created: that is ambiguous (see _send)."""
    if code in PERMANENT_ERRORS:
        return False
    return status == 429 or code == 20429


def is_ambiguous(status: int, code: int | None) -> bool:
    return code not in PERMANENT_ERRORS and (status >= 500 or code in TRANSIENT_ERRORS)


@functools.cache
def twilio_client(account_sid: str, auth_token: str, base_url: str | None) -> Any:
    """The twilio REST client, imported only here: the receiver never loads twilio.rest."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=10))
    if base_url:  # the local fake Twilio API (make run) or a test server
        client.api.base_url = base_url.rstrip("/")
        client.messaging.base_url = base_url.rstrip("/")  # Messaging Services (decoy.offair)
    return client


def message_params(campaign: Campaign, to: str, status_callback_url: str | None,
                   text: str = REPLY, validity_period_seconds: int | None = None,
                   texted: str = "") -> dict[str, Any]:
    """The Messages.create arguments: who the reply comes from depends on the campaign; from
    its number, that is the pool's number that was texted (`texted`, from the order), else
    (an order scheduled before pools, or a number since removed) the campaign's first active.

    `validity_period`: a reply still queued at Twilio after that long fails (30036) instead of
    arriving hours late (Messages API ValidityPeriod, 1-36000 s). No MaxPrice: Twilio made it
    obsolete on 2024-06-03, it no longer has any effect (twilio-python's create() docstring,
    error 21627's page); AllowedCountryCodes and Geo Permissions bound the destination price.
    """
    params: dict[str, Any] = {"to": to, "body": campaign.text(text)}
    if validity_period_seconds is not None:
        params["validity_period"] = validity_period_seconds
    kind, value = campaign.reply_from.kind, campaign.reply_from.value
    if kind == "messaging_service":
        params["messaging_service_sid"] = str(value)
    else:
        own = texted if campaign.label_of(texted) is not None else campaign.number
        params["from_"] = own if kind == "number" else str(value)
    if status_callback_url:
        params["status_callback"] = f"{status_callback_url}?{urlencode({'campaign': campaign.id})}"
    return params


def _send(client: Any, params: dict[str, str], started: float) -> dict[str, Any]:
    """Create the message once. An answer that leaves it unknown whether Twilio created it
    (5xx, a 2xx that is not a message, a read timeout or reset after sending) is resolved by
    listing Twilio's messages, never by guessing: retried only when surely not created."""
    from twilio.base.exceptions import TwilioException

    try:
        message = client.messages.create(**params)
    except TwilioException as exc:  # TwilioRestException or an RFC 9457 TwilioServiceException
        status, code = int(getattr(exc, "status", 0) or 0), getattr(exc, "code", None)
        if is_transient(status, code):
            raise TransientSendError(f"twilio {status}/{code}") from None
        if is_ambiguous(status, code):
            return _resolve(client, params, started, f"twilio {status}/{code}")
        return {"outcome": Outcome.SendFailed, "error_code": code, "status": status}
    except ValueError:  # a 2xx whose body is not JSON (a proxy's page, a cut answer)
        return _resolve(client, params, started, "answer not JSON")
    except OSError as exc:  # connection refused, reset, timeout (requests' errors are OSErrors)
        if never_reached_twilio(exc):
            raise TransientSendError(type(exc).__name__) from None
        return _resolve(client, params, started, type(exc).__name__)
    except Exception as exc:  # whatever else fails: the request may have left
        # e.g. a 2xx whose JSON is not a message object (null, [], "OK", 201): twilio's
        # MessageInstance raises AttributeError on it. Twilio may have created the message:
        # only its list can say, so it decides, never a blind retry (issue 23.5a).
        return _resolve(client, params, started, f"answer not a message ({type(exc).__name__})")
    if not getattr(message, "sid", None):  # an empty 2xx: created or not, we cannot tell
        return _resolve(client, params, started, "answer without a sid")
    return {"outcome": Outcome.Sent, "message_sid": message.sid}


# Messages created this long before the attempt started are not this attempt's (clock skew).
LOOKUP_SKEW_SECONDS = 120
LOOKUP_LIMIT = 20  # one harasser gets a handful of replies a window: the newest 20 suffice


def _resolve(client: Any, params: dict[str, str], started: float, why: str) -> dict[str, Any]:
    """Ask Twilio whether the ambiguous create made the message; retry only if it did not."""
    from twilio.base.exceptions import TwilioException

    try:
        sid = find_created(client, params, started)
    except (TwilioException, OSError, ValueError) as exc:
        # Neither a retry (could send twice) nor silence: recorded once, counted, alarmed.
        return {"outcome": Outcome.SendUncertain, "error": why, "lookup_error": type(exc).__name__}
    if sid is None:
        raise TransientSendError(f"{why}; Twilio lists no such message") from None
    return {"outcome": Outcome.Sent, "message_sid": sid, "resolved": why}


def find_created(client: Any, params: dict[str, str], started: float) -> str | None:
    """The sid of a message this attempt created, from Twilio's Messages list, or None.

    Filtered by To (and From when the reply has one); not by DateSent: it is date-granular
    and a queued message has no date_sent yet (twilio-python MessageList.list docstring).
    Matched on body, sender and date_created instead.
    """
    import datetime

    filters: dict[str, Any] = {"to": params["to"], "limit": LOOKUP_LIMIT}
    if "from_" in params:
        filters["from_"] = params["from_"]
    since = datetime.datetime.fromtimestamp(started - LOOKUP_SKEW_SECONDS, datetime.UTC)
    for message in client.messages.list(**filters):
        created = message.date_created
        if (message.to == params["to"] and (message.body or "").endswith(params["body"])
                and message.messaging_service_sid == params.get("messaging_service_sid",
                                                                message.messaging_service_sid)
                and (created is None or created >= since)):
            return str(message.sid)
    return None


def never_reached_twilio(exc: OSError) -> bool:
    """True only when no connection was made (refused, DNS, connect timeout): safe to retry."""
    from requests.exceptions import ConnectTimeout
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _already_handled(response: dict[str, Any], _record: Any) -> dict[str, Any]:
    """A replayed order: report the earlier result as a duplicate, never send again."""
    return {**response, "outcome": Outcome.AlreadyHandled, "first_outcome": response.get("outcome")}


@functools.cache
def _send_once(table_name: str, dynamodb: Any,
               expires_after: int = IDEMPOTENCY_SECONDS) -> Callable[..., dict[str, Any]]:
    """The send wrapped in powertools idempotency, keyed by the order's sid."""
    persistence = DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk",
                                           boto3_client=dynamodb)
    # No lambda context registered on purpose: an attempt that crashed mid-send stays
    # INPROGRESS, so a retry never sends a second time (at most once, never unrecorded).
    config = IdempotencyConfig(event_key_jmespath="sid", raise_on_no_idempotency_key=True,
                               expires_after_seconds=expires_after,
                               response_hook=_already_handled)

    @idempotent_function(data_keyword_argument="order", persistence_store=persistence,
                         config=config)
    def send(*, order: dict[str, Any], client: Any, params: dict[str, str], started: float,
             done: list[dict[str, Any]]) -> dict[str, Any]:
        done.append(_send(client, params, started))  # known even if the record is not saved
        return done[-1]

    return send


def deliver(order: ReplyOrder, rt: Runtime, secrets: Secrets, delivery: Delivery,
            now: float) -> dict[str, Any]:
    """Send the reply for one order, unless the kill switch, an opt-out or a past send forbid it."""
    campaign = rt.campaigns.by_id(order.campaign)
    if campaign is None:
        logger.error("order for an unknown campaign dropped", extra={"campaign": order.campaign})
        count(Metric.SendDropped)
        return {"outcome": Outcome.UnknownCampaign}
    set_campaign(campaign.id, campaign.label_of(order.number))
    logger.set_correlation_id(order.sid)
    try:
        result = _deliver(campaign, order, rt, secrets, delivery, now)
    except (TransientSendError, ClientError, BotoCoreError, IdempotencyPersistenceLayerError) \
            as exc:
        # Nothing was sent: raising lets Lambda's async retries try again, then the DLQ.
        count(Metric.SendRetried)
        logger.warning("reply not sent, left to the retries", extra={
            "campaign": campaign.id, "error": type(exc).__name__, "detail": str(exc)[:200]})
        raise
    count(result["outcome"])
    if result.get("resolved"):
        count(Metric.SendResolved)  # an ambiguous answer that Twilio's list settled
    if result["outcome"] == Outcome.SendFailed:
        count(send_error_metric(result["error_code"]))  # e.g. 21408: no geo permission
    logger.info("reply handled", extra={"outcome": result["outcome"], "campaign": campaign.id,
                                        "to": mask(order.to),
                                        "error_code": result.get("error_code"),
                                        "error": result.get("error") or result.get("resolved")})
    return result


def _deliver(campaign: Campaign, order: ReplyOrder, rt: Runtime, secrets: Secrets,
             delivery: Delivery, now: float) -> dict[str, Any]:
    table = rt.settings.table_name
    try:
        if rt.kill_switch_on(max_age=0, fail_closed=False):
            return {"outcome": Outcome.KillSwitch}
    except ParameterError:
        raise TransientSendError("kill switch unreadable") from None  # never a silent drop
    # A STOP that DynamoDB could not record waits in Scheduler; unsure = raise, never send.
    # The marker first, DynamoDB second: the queued STOP is recorded in DynamoDB *before* its
    # marker is deleted (optout.record_queued_opt_out), so whenever it fires, one of the two
    # reads sees it. In the other order it could be recorded just after the DynamoDB read
    # and its marker deleted just before the Scheduler read: both missed (issue 23.5b).
    if optout.opt_out_pending(rt.scheduler, delivery.schedule_group_name, order.sender_key):
        return {"outcome": Outcome.OptedOut}
    if shield.is_opted_out(rt.dynamodb, table, order.sender_key, now):
        return {"outcome": Outcome.OptedOut}
    client = twilio_client(secrets.account_sid, secrets.auth_token, delivery.twilio_api_base_url)
    params = message_params(campaign, order.to, delivery.status_callback_url, order.text,
                            delivery.validity_period_seconds, order.number)
    # A replayed webhook re-creates a fired schedule while its sid is in the sender's window:
    # the record must outlive that window, or the replay would send a second reply.
    expires = IDEMPOTENCY_SECONDS + campaign.limits(rt.settings.limits).sender_window_seconds
    done: list[dict[str, Any]] = []
    try:
        result = _send_once(table, rt.dynamodb, expires)(order={"sid": order.sid},
                                                         client=client, params=params,
                                                         started=now, done=done)
    except IdempotencyAlreadyInProgressError:
        # Running elsewhere, or stuck (crashed mid-send, a record that could not be deleted):
        # raise rather than answer normally, so a stuck order ends in the DLQ, not in silence.
        count(Metric.SendInProgress)
        raise SendInProgress("an earlier attempt holds this order's record") from None
    except IdempotencyPersistenceLayerError:
        if not done:
            raise
        # Sent, but the record stays INPROGRESS: a retry would only find it in progress.
        result = done[-1]
        count(Metric.SendUnrecorded)
        logger.warning("reply handled but its idempotency record stays in progress",
                       extra={"outcome": result["outcome"]})
    if result.get("error_code") == OPTED_OUT_ERROR:
        shield.record_opt_out(rt.dynamodb, table, order.sender_key, now,
                              rt.settings.limits.opt_out_seconds)
    return result
