"""What the receiver decides for one signed webhook: a voicemail, a reply scheduled, or nothing."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from decoy import optout, shield, twiml
from decoy.campaigns import HELP, REPLY, Campaign
from decoy.observability import count, logger, set_campaign
from decoy.outcomes import (
    ANSWERED_CALL,
    DELIVERY_STATUSES,
    Metric,
    Outcome,
    error_metric,
    status_metric,
)
from decoy.phone import mask, sender_key
from decoy.runtime import Runtime
from decoy.schedule import ReplyOrder, cancel_reply, is_message_sid, schedule_reply
from decoy.settings import ScheduleTarget
from decoy.shield import aws_error
from decoy.webhook import Rejected, Webhook, verify_signature

STOP_WORDS = frozenset({"STOP", "STOPALL", "ARRET", "ARRETE", "STOPP", "UNSUBSCRIBE", "CANCEL",
                        "END", "QUIT", "REVOKE", "OPTOUT"})
HELP_WORDS = frozenset({"HELP", "AIDE", "INFO", "HULP"})
_ERROR_CODE = re.compile(r"\d{1,6}\Z")
_USAGE_TRIGGER_SID = re.compile(r"UT[0-9a-fA-F]{32}\Z")
_USAGE_CATEGORY = re.compile(r"[a-z0-9-]{1,64}\Z")


def _keyword(body: str) -> str:
    """'Arrêt !' -> 'ARRET', 'stop all' -> 'STOPALL'; '' for anything longer than two words."""
    if len(body.split()) > 2:
        return ""
    word = unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z]", "", word.upper())


def is_stop(body: str, opt_out_type: str = "") -> bool:
    """A single-word opt-out keyword (any case, accents ignored) or Twilio's OptOutType=STOP."""
    return opt_out_type.strip().upper() == "STOP" or _keyword(body) in STOP_WORDS


def is_help(body: str, opt_out_type: str = "") -> bool:
    """HELP / AIDE / INFO / HULP, or Twilio's OptOutType=HELP (Advanced Opt-Out)."""
    return opt_out_type.strip().upper() == "HELP" or _keyword(body) in HELP_WORDS


class Inbound(NamedTuple):
    """The parts of a webhook the decision needs (never the message body)."""

    campaign: Campaign
    sender: str
    sid: str
    text: str = REPLY  # which campaign text the reply would carry
    number: str = ""  # the decoy number of the pool that was texted or called


def answer(webhook: Webhook, rt: Runtime, target: ScheduleTarget, now: float) -> str:
    """Verify, then route: /sms and /voice may schedule a reply, /status is counted."""
    secrets = rt.secrets()
    try:
        verify_signature(webhook, secrets.auth_token, secrets.shared_key)
    except Rejected:
        count(Metric.ForgedSignature)
        raise
    if webhook.route == "/status":
        return record_status(webhook, rt)
    if webhook.route == "/usage":
        return usage_trigger_fired(webhook, rt, target, now)
    inbound = _inbound(webhook, rt)
    count(Metric.Received)
    if webhook.route == "/voice":
        return answer_call(inbound, rt, target, secrets.hash_key, now)
    body, opt_out_type = webhook.form.get("Body", ""), webhook.form.get("OptOutType", "")
    if is_stop(body, opt_out_type):
        opt_out(inbound, rt, target, secrets.hash_key, now)
        return twiml.EMPTY
    if inbound.campaign.help_reply and is_help(body, opt_out_type):
        inbound = inbound._replace(text=HELP)  # the campaign opted in to a help text
    consider_reply(inbound, rt, target, secrets.hash_key, now)
    return twiml.EMPTY


def _inbound(webhook: Webhook, rt: Runtime) -> Inbound:
    to = webhook.field("To")
    campaign = rt.campaigns.for_number(to)
    if campaign is None:
        count(Metric.UnknownNumber)
        raise Rejected(404, f"no campaign for To={to}: a Twilio number points here but "
                            "campaigns.json does not list it")
    set_campaign(campaign.id, campaign.label_of(to))
    sid_field = "CallSid" if webhook.route == "/voice" else "MessageSid"
    sid = webhook.field(sid_field)
    if not is_message_sid(sid):
        raise Rejected(400, f"{sid_field} is not a Twilio SID")
    logger.set_correlation_id(sid)
    return Inbound(campaign=campaign, sender=webhook.field("From"), sid=sid, number=to)


def consider_reply(inbound: Inbound, rt: Runtime, target: ScheduleTarget, hash_key: bytes,
                   now: float) -> Outcome:
    """A message: the shield decides, then the reply is scheduled when it is due."""
    key = sender_key(inbound.sender, hash_key)
    admitted = shield.admit_message(rt, inbound.campaign, inbound.sender, key, inbound.sid, now)
    outcome = reply(admitted, inbound, rt, target, key, now)
    count(outcome)
    logger.info("inbound handled", extra={"outcome": outcome, "campaign": inbound.campaign.id,
                                          "sender": mask(inbound.sender)})
    return outcome


def answer_call(inbound: Inbound, rt: Runtime, target: ScheduleTarget, hash_key: bytes,
                now: float) -> str:
    """A call: the voicemail when the shield lets it be answered, else <Reject reason=busy>.

    A rejected call is neither answered nor billed by Twilio; an answered one is billed per
    minute, so answers are bounded by today's allowance (DailyAnsweredCallBudget).
    """
    key = sender_key(inbound.sender, hash_key)
    admitted = shield.admit_call(rt, inbound.campaign, inbound.sender, key, inbound.sid, now)
    outcome = reply(admitted, inbound, rt, target, key, now)
    answered = outcome in ANSWERED_CALL
    count(outcome)
    count(Metric.CallAnswered if answered else Metric.CallRejected)
    logger.info("call handled", extra={"outcome": outcome, "answered": answered,
                                       "campaign": inbound.campaign.id,
                                       "sender": mask(inbound.sender)})
    return twiml.voicemail(inbound.campaign.voicemail) if answered else twiml.REJECT


def reply(admitted: Outcome, inbound: Inbound, rt: Runtime, target: ScheduleTarget, key: str,
          now: float) -> Outcome:
    """The reply decision: schedule it when the shield admitted it, at receipt + the delay;
    the schedule's name dedupes a retried webhook. Any other verdict schedules nothing."""
    if admitted is not Outcome.Scheduled:
        return admitted
    campaign = inbound.campaign
    order = ReplyOrder(campaign=campaign.id, to=inbound.sender, sender_key=key, sid=inbound.sid,
                       text=inbound.text, number=inbound.number)
    # ReplyDelaySeconds, or a moment of the campaign's delay window drawn from the sid.
    delay = campaign.reply_delay(campaign.limits(rt.settings.limits).reply_delay_seconds,
                                 inbound.sid)
    try:
        created = schedule_reply(rt.scheduler, target, order, now + delay)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("schedule failed, nothing will be sent", extra={"error": aws_error(exc)})
        return Outcome.ScheduleFailed
    return Outcome.Scheduled if created else Outcome.Duplicate


def opt_out(inbound: Inbound, rt: Runtime, target: ScheduleTarget, hash_key: bytes,
            now: float) -> None:
    """STOP: never message this sender again, and cancel a reply still pending.

    When DynamoDB cannot record it, the STOP is queued in Scheduler (decoy.optout): the
    sender records it a minute later and, meanwhile, refuses to reply to this sender.
    """
    key = sender_key(inbound.sender, hash_key)
    opt_out_seconds = rt.settings.limits.opt_out_seconds
    rt.memory.blocked.add(key, now + opt_out_seconds)  # this container refuses at once, whatever
    try:
        pending = shield.record_opt_out(rt.dynamodb, rt.settings.table_name, key, now,
                                        opt_out_seconds)
    except (ClientError, BotoCoreError) as exc:
        try:
            optout.queue_opt_out(rt.scheduler, target, key, inbound.sid, now)
        except (ClientError, BotoCoreError) as queue_exc:
            logger.error("opt-out lost: neither recorded nor queued", extra={
                "error": aws_error(exc), "queue_error": aws_error(queue_exc)})
            count(Metric.OptOutFailed)
            return
        logger.warning("opt-out not recorded, queued for the sender", extra={
            "error": aws_error(exc)})
        count(Metric.OptOutQueued)
        return
    try:
        cancelled = sum(cancel_reply(rt.scheduler, target.group_name, sid) for sid in pending)
    except (ClientError, BotoCoreError) as exc:
        # Recorded: the sender re-checks the opt-out before sending, so nothing goes out.
        logger.warning("opt-out recorded, pending reply not cancelled", extra={
            "error": aws_error(exc)})
        cancelled = 0
    count(Metric.OptOut)
    logger.info("sender opted out", extra={"campaign": inbound.campaign.id,
                                           "cancelled": cancelled, "sender": mask(inbound.sender)})


def record_status(webhook: Webhook, rt: Runtime) -> str:
    """Count one delivery status callback per campaign, status and error code."""
    if "campaign" in webhook.query:  # the callback URL the sender gave Twilio
        campaign = rt.campaigns.by_id(webhook.query["campaign"])
    else:  # a Messaging Service's own callback URL, an operator's replay: who sent it
        campaign = rt.campaigns.for_reply_sender(webhook.form.get("From", ""),
                                                 webhook.form.get("MessagingServiceSid", ""))
    if campaign is None:
        raise Rejected(404, "status callback for an unknown campaign")
    set_campaign(campaign.id)
    status = webhook.form.get("MessageStatus", "").lower()
    if status not in DELIVERY_STATUSES:
        raise Rejected(400, "missing or unknown MessageStatus")
    logger.set_correlation_id(webhook.form.get("MessageSid") or None)
    count(status_metric(status))
    error = webhook.form.get("ErrorCode", "")
    if _ERROR_CODE.fullmatch(error):
        count(error_metric(error))
    logger.info("delivery status", extra={"campaign": campaign.id, "status": status,
                                          "error_code": error or None})
    return twiml.EMPTY


def usage_trigger_fired(webhook: Webhook, rt: Runtime, target: ScheduleTarget | None = None,
                        now: float = 0.0) -> str:
    """A Twilio Usage Trigger crossed its threshold: turn the kill switch on, raise the alarm;
    a level-2 one (callback `?level=2`) also queues taking the numbers off the air
    (decoy.offair: the sender, which carries Twilio's REST client, does it).

    Twilio POSTs UsageTriggerSid, UsageCategory, TriggerBy, TriggerValue, CurrentValue, ...
    (Usage Triggers docs, "webhook"); signed like every webhook, checked before this runs.
    """
    # Imported here, not at INIT: a usage trigger fires about once per breach, and the rest
    # of decoy.offair (plans, Messaging Services) is the sender's and decoy_ops' (#21).
    from decoy import offair

    sid = webhook.field("UsageTriggerSid")
    if not _USAGE_TRIGGER_SID.match(sid):
        raise Rejected(400, "UsageTriggerSid is not a Twilio usage trigger SID")
    category = webhook.form.get("UsageCategory", "")
    level_two = offair.is_level_two(webhook.query)
    details = {"trigger": sid, "category": category if _USAGE_CATEGORY.match(category) else None,
               "trigger_by": webhook.form.get("TriggerBy", "")[:16] or None,
               "trigger_value": webhook.form.get("TriggerValue", "")[:32] or None,
               "current_value": webhook.form.get("CurrentValue", "")[:32] or None,
               "level": 2 if level_two else 1}
    count(Metric.UsageTriggerFired)  # the alarm: whatever happens to the switch below
    logger.set_correlation_id(sid)
    by_hand = []
    try:
        rt.ssm.client.put_parameter(Name=rt.settings.kill_switch_parameter, Value="on",
                                    Type="String", Overwrite=True)
    except (ClientError, BotoCoreError) as exc:
        count(Metric.KillSwitchFailed)
        logger.error("usage trigger fired, kill switch NOT turned on",
                     extra={**details, "error": aws_error(exc)})
        by_hand.append("kill switch not turned on, turn it on by hand")
    else:
        rt.ssm.clear_cache()  # this container stops at once; the others within the cache
        logger.warning("usage trigger fired, kill switch turned on", extra=details)
    if level_two and target is not None:
        try:
            queued = offair.request_off_air(rt.dynamodb, rt.settings.table_name, rt.scheduler,
                                            target, sid, now)
        except (ClientError, BotoCoreError) as exc:
            count(Metric.OffAirFailed)
            logger.error("level-2 trigger fired, numbers NOT queued to go off the air",
                         extra={**details, "error": aws_error(exc), "by_hand": offair.BY_HAND})
            by_hand.append(f"numbers not taken off the air, run {offair.BY_HAND}")
        else:
            if queued:
                count(Metric.OffAirRequested)
            logger.warning("level-2 trigger fired: numbers go off the air" if queued else
                           "level-2 trigger already handled: nothing changes twice",
                           extra=details)
    if by_hand:
        raise Rejected(503, "; ".join(by_hand))
    return twiml.EMPTY
