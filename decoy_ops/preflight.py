"""`decoy_ops preflight`: everything a first deploy needs, checked before and after it.

Each check is a small function taking its clients (or what they read) as arguments and
returning a `Check`: ok, fail or skipped, with one line saying what to do. `run()` chains
them (a check whose input failed is skipped, never guessed), `render()` prints one line
each: ✓ ok, ✗ fail, – skipped. `--local` runs against `make run`'s stack every check with a
local equivalent (its moto SSM and Scheduler, its fake Twilio) and skips the others.

Sources (docs/deploy.md cites them too):
- Twilio Account resource `type` is "Trial" or "Full" (REST API, Accounts; twilio-python
  9.13 `client.api.v2010.accounts(sid).fetch()`): a trial account texts verified numbers
  only and prefixes each SMS. Sure.
- Messaging Services: a number in a service whose `use_inbound_webhook_on_number` is false
  gets its incoming texts sent to the service's `inbound_request_url`, not to the number's
  own webhook (twilio-python 9.13, messaging/v1/service docstrings). Sure.
- SMS geo permissions: GET https://accounts.twilio.com/v1/Messaging/GeoPermissions
  (twilio-python 9.13 `client.accounts.v1.messaging_geopermissions`; error 30649 "Failed to
  Update Geo Permissions"). Medium sure it is generally available: a 403/404 reads as
  "cannot tell" (skipped), never as a failure.
- Lambda reserved concurrency: "You can reserve up to the Unreserved account concurrency
  value that is shown, minus 100 for functions that don't have reserved concurrency" (AWS
  Lambda Developer Guide, "Configuring reserved concurrency for a function"); new accounts
  may have a concurrency quota of 10 (AWS Lambda quotas). Sure.
- An SNS email subscription not yet confirmed is listed with SubscriptionArn
  "PendingConfirmation" (SNS API, ListSubscriptionsByTopic). Sure.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from decoy import offair
from decoy.campaigns import Campaign, ConfigError, is_placeholder
from decoy.outcomes import french_typography
from decoy_ops import ROOT
from decoy_ops.stack import SAMCONFIG, OpsError

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
MARKS = {OK: "✓", FAIL: "✗", SKIPPED: "–"}
# The template's Parameters naming SSM secrets: (parameter, required).
SECRETS = (("TwilioAccountSidParameter", True), ("TwilioAuthTokenParameter", True),
           ("SenderHashKeyParameter", True), ("TwilioSharedKeyParameter", False))
MIN_UNRESERVED = 100  # what Lambda keeps unreserved for the functions without a reservation
# Calling code -> ISO country, for the geo permissions' CountryCode (the codes we know).
COUNTRIES = {"1": "US", "31": "NL", "32": "BE", "33": "FR", "34": "ES", "39": "IT", "41": "CH",
             "44": "GB", "49": "DE", "352": "LU", "353": "IE"}


# Each check's name in French (docs/glossary.json's words); commands, file names, Parameter
# names and Twilio console paths stay as the volunteer types or looks for them.
NAMES_FR = {"AWS credentials": "identifiants AWS", "region": "région",
            "Lambda concurrency": "simultanéité Lambda", "Twilio account": "compte Twilio",
            "SMS geo permissions": "autorisations géographiques SMS",
            "numbers point at this stack": "numéros dirigés vers cette pile",
            "voice fallback": "repli des appels", "off the air": "numéros débranchés",
            "usage triggers": "alertes de dépense", "kill switch": "coupe-circuit",
            "alarm email": "e-mail des alarmes", "number": "numéro"}


@dataclass(frozen=True)
class Check:
    """One line of preflight: what was checked, how it went, what to do (`fr`: the same in
    French; `line` is the English one)."""

    name: str
    status: str  # ok | fail | skipped
    message: str
    fr: str = field(default="", compare=False)

    @property
    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name}: {self.message}"

    def text(self, lang: str = "en") -> str:
        """The line in `lang`; French with its typography (a message without a French
        version, e.g. another tool's error, is shown as it came)."""
        if lang != "fr":
            return self.line
        first, _, rest = self.name.partition(" ")
        name = NAMES_FR.get(self.name) or (f"{NAMES_FR[first]} {rest}" if rest and first in
                                           NAMES_FR else self.name)
        return french_typography(f"{MARKS[self.status]} {name} : {self.fr or self.message}")


def ok(name: str, message: str, fr: str = "") -> Check:
    return Check(name, OK, message, fr)


def fail(name: str, message: str, fr: str = "") -> Check:
    return Check(name, FAIL, message, fr)


def skipped(name: str, message: str, fr: str = "") -> Check:
    return Check(name, SKIPPED, message, fr)


def render(checks: Sequence[Check], lang: str = "en") -> list[str]:
    failed = sum(c.status == FAIL for c in checks)
    passed = sum(c.status == OK for c in checks)
    left = len(checks) - failed - passed
    if lang == "fr":
        summary = (f"{failed} à corriger, {passed} bonne(s), {left} non faite(s)" if failed
                   else f"les {passed} vérifications sont bonnes, {left} non faite(s)")
    else:
        summary = (f"{failed} to fix, {passed} ok, {left} skipped"
                   if failed else f"all {passed} checks ok, {len(checks) - passed} skipped")
    return [c.text(lang) for c in checks] + [summary]


# -- tools --------------------------------------------------------------------------------

def python313(find: Callable[[], str | None]) -> Check:
    """`make build` builds for python3.13 (the Lambda runtime): tools/python313.py finds one."""
    found = find()
    if found:
        return ok("python3.13", f"found in {found} (make build uses it)",
                  f"trouvé dans {found} (make build s'en sert)")
    return fail("python3.13", "not found: `make build` needs it; install it (`pyenv install "
                              "3.13`, or your system's python3.13 package) or set LAMBDA_PYTHON",
                "introuvable : `make build` en a besoin ; installez-le (`pyenv install 3.13`, "
                "ou le paquet python3.13 de votre système) ou renseignez LAMBDA_PYTHON")


def find_python313() -> str | None:
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "python313.py")],  # noqa: S603
                         capture_output=True, text=True, timeout=120, check=False)
    return out.stdout.strip() if out.returncode == 0 else None


def aws_cli(which: Callable[[str], str | None] = shutil.which) -> Check:
    path = which("aws")
    if path:
        return ok("AWS CLI", f"{path}", f"{path}")
    return fail("AWS CLI", "`aws` not found: the guide stores the secrets with it; install "
                           "AWS CLI v2 (docs.aws.amazon.com/cli) and run `aws configure`",
                "`aws` introuvable : le guide s'en sert pour ranger les secrets ; installez "
                "AWS CLI v2 (docs.aws.amazon.com/cli) puis lancez `aws configure`")


# -- AWS ----------------------------------------------------------------------------------

def credentials(sts: Any) -> Check:
    try:
        who = sts.get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        return fail("AWS credentials", f"none that work ({type(exc).__name__}): `aws configure` "
                                       "or `aws sso login`, then again",
                    f"aucun qui fonctionne ({type(exc).__name__}) : `aws configure` ou "
                    "`aws sso login`, puis relancez")
    who_fr = f"compte {who['Account']} en tant que {who['Arn'].split(':')[-1]}"
    return ok("AWS credentials", f"account {who['Account']} as {who['Arn'].split(':')[-1]}",
              who_fr)


def region(checked: str | None, samconfig: str | None) -> Check:
    if not samconfig:
        return fail("region", "samconfig.toml names no region: add region = \"eu-west-3\" (or "
                              "yours) under [default.deploy.parameters]",
                    "samconfig.toml ne nomme aucune région : ajoutez region = \"eu-west-3\" (ou "
                    "la vôtre) sous [default.deploy.parameters]")
    if checked and checked != samconfig:
        return fail("region", f"checking {checked} but samconfig.toml deploys to {samconfig}: "
                              "use one region everywhere (a secret in another region is one "
                              "the functions cannot read)",
                    f"vérification dans {checked}, mais samconfig.toml déploie dans {samconfig} : "
                    "gardez une seule région partout (les fonctions ne lisent pas un secret "
                    "rangé dans une autre région)")
    return ok("region", f"{samconfig}, as samconfig.toml says",
              f"{samconfig}, comme le dit samconfig.toml")


def scheduler(client: Any, region_name: str) -> Check:
    try:
        client.list_schedule_groups(MaxResults=1)
    except ClientError as exc:
        code = exc.response['Error'].get('Code')
        return fail("EventBridge Scheduler", f"refused in {region_name} "
                    f"({code}): check the account's permissions",
                    f"refusé dans {region_name} ({code}) : vérifiez les droits du compte")
    except BotoCoreError as exc:  # no endpoint: the region has no Scheduler
        return fail("EventBridge Scheduler", f"not available in {region_name} "
                    f"({type(exc).__name__}): pick a region that has it, in samconfig.toml",
                    f"indisponible dans {region_name} ({type(exc).__name__}) : choisissez "
                    "une région qui l'a, dans samconfig.toml")
    return ok("EventBridge Scheduler", f"available in {region_name}",
              f"disponible dans {region_name}")


def secret(ssm: Any, parameter: str, name: str, required: bool = True) -> Check:
    """The SSM SecureString a template Parameter names exists (its value is never read)."""
    label = f"secret {parameter}"
    try:
        found = ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    except ClientError as exc:
        code = exc.response['Error'].get('Code')
        return fail(label, f"cannot read SSM ({code})", f"SSM illisible ({code})")
    if not found:
        if not required:
            return skipped(label, f"{name} not stored: this option is off",
                           f"{name} absent : cette option n'est pas utilisée")
        return fail(label, f"{name} is missing: store it (docs/deploy.md, \"Put the secrets "
                           "in SSM\"), or every webhook answers 503",
                    f"{name} manque : rangez-le (docs/deploy.md, « Put the secrets in SSM »), "
                    "sinon le service répond 503 à chaque message et chaque appel")
    if found[0].get("Type") != "SecureString":
        return fail(label, f"{name} is a {found[0].get('Type')}: store it again as a "
                           "SecureString (aws ssm put-parameter --type SecureString --overwrite)",
                    f"{name} est de type {found[0].get('Type')} : rangez-le de nouveau en "
                    "SecureString (aws ssm put-parameter --type SecureString --overwrite)")
    return ok(label, f"{name} stored (SecureString)", f"{name} rangé (SecureString)")


def concurrency(lambda_client: Any, reserved: int | None) -> Check:
    """The account's Lambda concurrency against what the template reserves for the receiver."""
    name = "Lambda concurrency"
    settings = lambda_client.get_account_settings()["AccountLimit"]
    total = int(settings["ConcurrentExecutions"])
    unreserved = int(settings.get("UnreservedConcurrentExecutions", total))
    if reserved:
        if unreserved - reserved < MIN_UNRESERVED:
            return fail(name, f"the account allows {total} ({unreserved} unreserved) and the "
                              f"receiver reserves {reserved}: AWS keeps {MIN_UNRESERVED} "
                              "unreserved, so the deploy would fail; set "
                              "ReceiverReservedConcurrency=\"\" or ask AWS for more (Service "
                              "Quotas > Lambda > Concurrent executions)",
                    f"le compte en permet {total} ({unreserved} non réservées) et la réception "
                    f"en réserve {reserved} : AWS en garde {MIN_UNRESERVED} non réservées, le "
                    "déploiement échouerait ; mettez ReceiverReservedConcurrency=\"\" ou "
                    "demandez-en plus à AWS (Service Quotas > Lambda > Concurrent executions)")
        return ok(name, f"{total} allowed, {reserved} reserved for the receiver, "
                        f"{unreserved - reserved} left unreserved",
                  f"{total} permises, {reserved} réservées pour la réception, "
                  f"{unreserved - reserved} non réservées")
    if total < MIN_UNRESERVED:
        return ok(name, f"{total} allowed (a new account's quota) and nothing reserved: fine, "
                        "a flood is throttled sooner; ask AWS for more if you reserve some",
                  f"{total} permises (le quota d'un nouveau compte), rien de réservé : cela va, "
                  "un afflux de messages est freiné plus tôt ; demandez-en plus à AWS si vous "
                  "en réservez")
    return ok(name, f"{total} allowed, nothing reserved", f"{total} permises, rien de réservé")


def alarm_email(sns: Any, topic_arn: str) -> Check:
    name = "alarm email"
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    emails = [s for s in subscriptions if s.get("Protocol") in ("email", "email-json")]
    if not emails:
        return fail(name, "no email subscribed: alarms reach nobody; add "
                          "\"AlarmEmail=you@example.org\" to samconfig.toml and deploy again",
                    "aucun e-mail abonné : les alarmes n'arrivent à personne ; ajoutez "
                    "\"AlarmEmail=vous@example.org\" à samconfig.toml et déployez de nouveau")
    pending = [s["Endpoint"] for s in emails if s.get("SubscriptionArn") == "PendingConfirmation"]
    if pending:
        who = ', '.join(_mask_email(e) for e in pending)
        return fail(name, f"{who} has not confirmed: "
                          "click \"Confirm subscription\" in the email from AWS Notifications",
                    f"{who} n'a pas confirmé : cliquez sur « Confirm subscription » dans "
                    "l'e-mail d'AWS Notifications")
    confirmed = ', '.join(_mask_email(s['Endpoint']) for s in emails)
    return ok(name, f"{confirmed} confirmed", f"{confirmed} confirmé")


def _mask_email(address: str) -> str:
    user, _, domain = address.partition("@")
    return f"{user[:1]}…@{domain}" if domain else "…"


# -- campaigns and Twilio -----------------------------------------------------------------

def campaigns_file(load: Callable[[], Any]) -> tuple[Check, list[Campaign]]:
    """campaigns.json is valid: fields, SMS segments, ARCEP's 06/07 rule, French sender IDs."""
    try:
        campaigns = list(load())
    except ConfigError as exc:
        return fail("campaigns.json", f"{exc}: fix it, then `make campaigns`",
                    f"{exc} : corrigez-le, puis `make campaigns`"), []
    active = sum(len(c.active_numbers) for c in campaigns)
    return ok("campaigns.json", f"{len(campaigns)} campaign(s), {active} active number(s), "
                                "sender rules (ARCEP 06/07, French sender IDs) respected",
              f"{len(campaigns)} campagne(s), {active} numéro(s) actif(s), règles d'envoi "
              "respectées (ARCEP 06/07, noms d'émetteur en France)"), campaigns


def twilio_account(client: Any, account_sid: str) -> Check:
    """A harmless read (the account itself); a trial account gives the decoy away."""
    account = client.api.v2010.accounts(account_sid).fetch()
    if (account.type or "").lower() == "trial":
        return fail("Twilio account", "a trial account: it texts verified numbers only and "
                                      "prefixes every SMS with \"Sent from your Twilio trial "
                                      "account\"; upgrade it (Console > Billing)",
                    "un compte d'essai : il n'écrit qu'aux numéros vérifiés et commence chaque "
                    "SMS par « Sent from your Twilio trial account » ; passez-le en compte "
                    "payant (Console > Billing)")
    return ok("Twilio account", f"credentials work, {account.type} account",
              f"les identifiants fonctionnent, compte {account.type}")


def number(campaign: Campaign, e164: str, resource: Any | None, *,
           placeholders_allowed: bool = False) -> Check:
    """An active decoy number: not a shipped example, owned by the account, SMS and voice."""
    name = f"number {campaign.id}/{campaign.label_of(e164)}"
    if is_placeholder(e164) and not placeholders_allowed:
        return fail(name, f"{e164} is an example number shipped in campaigns.json: buy a number "
                          "and put it there (docs/deploy.md, \"Choose a number per country\")",
                    f"{e164} est un numéro d'exemple livré dans campaigns.json : achetez un "
                    "numéro et mettez-le à sa place (docs/deploy.md, « Choose a number per "
                    "country »)")
    if resource is None:
        return fail(name, f"{e164} is not a number of this Twilio account: buy it, or fix "
                          "campaigns.json",
                    f"{e164} n'est pas un numéro de ce compte Twilio : achetez-le, ou corrigez "
                    "campaigns.json")
    capabilities = getattr(resource, "capabilities", None) or {}
    missing = [c for c in ("sms", "voice") if not capabilities.get(c)]
    if missing:
        missing_fr = " ni les ".join({"sms": "SMS", "voice": "appels"}[c] for c in missing)
        return fail(name, f"{e164} cannot receive {' and '.join(missing)}: buy a number with "
                          "SMS and Voice",
                    f"{e164} ne reçoit pas les {missing_fr} : achetez un numéro avec SMS et "
                    "Voice")
    example = " (an example number: fine locally)" if is_placeholder(e164) else ""
    example_fr = " (un numéro d'exemple : très bien en local)" if is_placeholder(e164) else ""
    return ok(name, f"{e164} owned, SMS and voice{example}",
              f"{e164} au compte, SMS et appels{example_fr}")


def messaging_services(client: Any, numbers: Iterable[str]) -> Check:
    """No Messaging Service sends a decoy number's incoming texts to its own URL."""
    name = "Messaging Services"
    wanted = set(numbers)
    taken = []
    for service in client.messaging.v1.services.list(limit=100):
        if service.use_inbound_webhook_on_number:
            continue
        senders = {p.phone_number for p in
                   client.messaging.v1.services(service.sid).phone_numbers.list(limit=400)}
        taken += [(n, service) for n in sorted(wanted & senders)]
    if taken:
        number_, service = taken[0]
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        more_fr = f" (et {len(taken) - 1} autre(s))" if len(taken) > 1 else ""
        return fail(name, f"{number_}{more} is in Messaging Service '{service.friendly_name}' "
                          f"({service.sid}), whose incoming-message URL wins over the number's: "
                          "in its Integration settings choose \"Defer to sender's webhook\"",
                    f"{number_}{more_fr} est dans "
                    f"le Messaging Service '{service.friendly_name}' ({service.sid}), dont "
                    "l'adresse des messages entrants passe avant celle du numéro : dans ses "
                    "réglages Integration, choisissez « Defer to sender's webhook »")
    return ok(name, "none overrides a decoy number's incoming texts",
              "aucun ne détourne les messages reçus par un numéro leurre")


def geo_permissions(client: Any, calling_codes: Iterable[str]) -> Check:
    """What Twilio's API can tell of the SMS geo permissions for the allowed countries."""
    name = "SMS geo permissions"
    from twilio.base.exceptions import TwilioRestException

    codes = sorted(set(calling_codes))
    countries = {COUNTRIES[c]: c for c in codes if c in COUNTRIES}
    if not countries:
        return skipped(name, f"no known country for +{', +'.join(codes)}: check them in "
                             "Console > Messaging > Settings > Geo permissions",
                       f"aucun pays connu pour +{', +'.join(codes)} : vérifiez-les dans "
                       "Console > Messaging > Settings > Geo permissions")
    try:
        found = client.accounts.v1.messaging_geopermissions.fetch(
            country_code=",".join(sorted(countries))).permissions or []
    except TwilioRestException as exc:
        if exc.status in (403, 404):
            return skipped(name, "Twilio's API cannot tell here: check Console > Messaging > "
                                 f"Settings > Geo permissions allows {', '.join(countries)}",
                           "l'API de Twilio ne le dit pas ici : vérifiez que Console > "
                           "Messaging > Settings > Geo permissions autorise "
                           f"{', '.join(countries)}")
        raise
    enabled = {p.get("country_code"): bool(p.get("enabled")) for p in found}
    off = [c for c in countries if not enabled.get(c)]
    if off:
        return fail(name, f"SMS to {', '.join(off)} is not allowed: replies there fail (21408); "
                          "allow it in Console > Messaging > Settings > Geo permissions",
                    f"SMS non autorisés vers {', '.join(off)} : les réponses y échouent "
                    "(21408) ; autorisez-les dans Console > Messaging > Settings > Geo "
                    "permissions")
    return ok(name, f"SMS allowed to {', '.join(countries)}",
              f"SMS autorisés vers {', '.join(countries)}")


def webhooks(numbers: Mapping[str, Any], wanted: Mapping[str, str],
             fix: str = 'make ops ARGS="connect --apply"') -> Check:
    """After a deploy: each number's webhooks are this stack's (connect --apply sets them).
    A number off the air is left to the "off the air" line (one broken thing, one line)."""
    from decoy import offair

    name = "numbers point at this stack"
    on_air = {n: r for n, r in numbers.items() if r is not None and not offair.is_off_air(r)}
    wrong = [n for n, r in on_air.items() if any(
        (getattr(r, f, "") or "") != v for f, v in wanted.items())]
    if wrong:
        more = f" and {len(wrong) - 1} more" if len(wrong) > 1 else ""
        more_fr = f" et {len(wrong) - 1} autre(s)" if len(wrong) > 1 else ""
        return fail(name, f"{wrong[0]}{more} not yet: `{fix}`",
                    f"{wrong[0]}{more_fr} pas encore : `{fix}`")
    if numbers and not on_air:
        return skipped(name, "every number is off the air (see \"off the air\")",
                       "tous les numéros sont débranchés (voir « numéros débranchés »)")
    off = len(numbers) - len(on_air)
    return ok(name, f"{len(on_air)} number(s): texts and calls reach this stack"
              + (f" ({off} off the air)" if off else ""),
              f"{len(on_air)} numéro(s) : messages et appels arrivent sur cette pile"
              + (f" ({off} débranché(s))" if off else ""))


def voice_fallback(numbers: Mapping[str, Any], fallback_url: str,
                   fix: str = 'make ops ARGS="connect --apply"') -> Check:
    """After a deploy: a call reaching Twilio while the API fails gets a free <Reject>: each
    number's VoiceFallbackUrl is the reject-busy Bin (VoiceRejectUrl; connect sets it)."""
    name = "voice fallback"
    if not fallback_url:
        return fail(name, "no VoiceRejectUrl: a call the stack cannot answer (throttled, "
                          "failing) would be answered by Twilio's application error, billed; "
                          "create the reject-busy TwiML Bin (docs/deploy.md, \"Cap the "
                          "money\"), set the parameter, then `" + fix + "`",
                    "pas de VoiceRejectUrl : un appel auquel la pile ne peut pas répondre "
                    "(freinée, en panne) recevrait le message d'erreur de Twilio, facturé ; "
                    "créez le TwiML Bin qui rejette l'appel (docs/deploy.md, « Cap the "
                    "money »), renseignez le paramètre, puis `" + fix + "`")
    wrong = [n for n, r in numbers.items() if r is not None
             and (getattr(r, "voice_fallback_url", "") or "") != fallback_url]
    if wrong:
        return fail(name, f"{wrong[0]} has none: `{fix}`", f"{wrong[0]} n'en a pas : `{fix}`")
    return ok(name, f"{len(numbers)} number(s) reject calls if the stack fails",
              f"{len(numbers)} numéro(s) rejettent les appels si la pile est en panne")


def off_air(numbers: Mapping[str, Any], fix: str = 'make ops ARGS="connect --apply"') -> Check:
    """After a deploy: no number is off the air (level 2 empties its SMS URL: it then gets
    no reply, and Twilio bills no inbound SMS for it)."""
    from decoy import offair

    name = "off the air"
    off = [n for n, r in numbers.items() if r is not None and offair.is_off_air(r)]
    if off:
        more = f" and {len(off) - 1} more" if len(off) > 1 else ""
        more_fr = f" et {len(off) - 1} autre(s)" if len(off) > 1 else ""
        return fail(name, f"{off[0]}{more} off the air (level 2 fired, or taken off by "
                          f"hand): texts reach nobody; `{fix}` puts them back",
                    f"{off[0]}{more_fr} débranché(s) (par le niveau 2, ou à la main) : les "
                    f"messages n'arrivent à personne ; `{fix}` les rebranche")
    return ok(name, f"no number is off the air ({len(numbers)} on the air)",
              f"aucun numéro débranché ({len(numbers)} branché(s))")


def kill_switch(ssm: Any, name: str) -> Check:
    """After a deploy: the kill switch is off (on, or missing, nothing is ever sent)."""
    from decoy_ops import switch

    value = switch.read(ssm, name)
    if switch.is_on(value):
        state = "missing" if value is None else "on"
        state_fr = "paramètre absent" if value is None else "actif"
        return fail("kill switch", f"{state}: nothing would be sent; `make ops "
                                   "ARGS=\"kill-switch off\"` once the deploy is checked",
                    f"{state_fr} : rien ne serait envoyé ; `make ops ARGS=\"kill-switch "
                    "off\"` une fois le déploiement vérifié")
    return ok("kill switch", "off: replies are scheduled and sent",
              "inactif : les réponses sont prévues et envoyées")


ACTIONS_FR = {"create": "à créer", "replace": "à remplacer", "update": "à mettre à jour",
              "delete": "à supprimer"}  # connect.plan_triggers' actions


def usage_triggers(plans: Sequence[Any], fix: str = 'make ops ARGS="connect --apply"') -> Check:
    """After a deploy: connect's Usage Triggers are in place with the stack's thresholds."""
    name = "usage triggers"
    off = [p for p in plans if p.action != "keep"]
    if off:
        return fail(name, f"{len(off)} of {len(plans)} missing or stale ('{off[0].trigger.name}'"
                          f": {off[0].action}): `{fix}`",
                    f"{len(off)} sur {len(plans)} absente(s) ou périmée(s) "
                    f"('{off[0].trigger.name}' : {ACTIONS_FR.get(off[0].action, off[0].action)}"
                    f") : `{fix}`")
    return ok(name, f"{len(plans)} daily trigger(s) in place: the kill switch, then off the air, "
                     "past the budgets",
              f"{len(plans)} alerte(s) de dépense quotidienne(s) en place : au-delà des budgets, "
              "le coupe-circuit, puis les numéros débranchés")


# -- where the deploy's values come from ------------------------------------------------------

def samconfig_parameters(path: Path = SAMCONFIG) -> dict[str, str]:
    """samconfig.toml's parameter_overrides (a list of K=V, or one string of them)."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    raw = config.get("default", {}).get("deploy", {}).get("parameters", {}).get(
        "parameter_overrides", [])
    items = shlex.split(raw) if isinstance(raw, str) else list(raw)
    values = {}
    for item in items:
        key, _, value = item.partition("=")
        values[key.strip()] = value.strip().strip("\"'")
    return values


def deploy_parameters(path: Path = SAMCONFIG) -> dict[str, str]:
    """The Parameters `sam deploy` would use: the template's defaults, samconfig.toml's own."""
    from decoy_local.template import load_template, parameter_defaults

    return {**parameter_defaults(load_template()), **samconfig_parameters(path)}


def guarded(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; an unexpected answer is that check's ✗, not a crash."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    try:
        return check()
    except TwilioRestException as exc:
        hint = ": the account SID or auth token is wrong" if exc.status == 401 else ""
        hint_fr = " : le SID du compte ou le jeton (auth token) est faux" if exc.status == 401 \
            else ""
        return fail(name, f"Twilio answered HTTP {exc.status} (error {exc.code}){hint}",
                    f"Twilio a répondu HTTP {exc.status} (erreur {exc.code}){hint_fr}")
    except (TwilioException, OSError) as exc:
        return fail(name, f"Twilio unreachable ({type(exc).__name__})",
                    f"Twilio injoignable ({type(exc).__name__})")
    except ClientError as exc:
        code = exc.response['Error'].get('Code')
        return fail(name, f"AWS refused ({code})", f"AWS a refusé ({code})")
    except (BotoCoreError, OpsError) as exc:
        return fail(name, str(exc) if isinstance(exc, OpsError) else type(exc).__name__)


# -- the whole run ------------------------------------------------------------------------------

@dataclass
class Setup:
    """What one preflight run checks, and with what (cli.run_preflight builds it)."""

    aws: Callable[[str], Any]  # service name -> boto3 client
    stack: Any  # decoy_ops.stack.Stack: outputs and parameters (OpsError: not deployed)
    region: str
    samconfig_region: str | None
    twilio: Callable[[str, str], Any]  # (account sid, auth token) -> twilio Client
    credentials: Callable[[Callable[[str], str]], tuple[str, str]]  # parameter -> name
    # connect's triggers by level (1: kill switch, 2: off the air), each with its callback
    wanted_triggers: Callable[[], list[tuple[list[Any], str]]]
    load_campaigns: Callable[[], Any]
    local: bool = False
    connect_command: str = 'make ops ARGS="connect --apply"'
    find_python313: Callable[[], str | None] = find_python313
    which: Callable[[str], str | None] = shutil.which
    reject_url: Callable[[], str] = str  # the reject-busy Bin (VoiceRejectUrl); "" = none


LOCAL_ONLY_DEPLOY = "needed for a real deploy only, not by the local stack"
# Why a check was not run, in French (the English is the key).
REASONS_FR = {LOCAL_ONLY_DEPLOY: "utile pour un vrai déploiement, pas pour la pile locale",
              "the local stack's AWS is moto": "l'AWS de la pile locale est moto",
              "needs AWS credentials": "il faut des identifiants AWS",
              "the local stack runs the functions in-process":
                  "la pile locale exécute les fonctions dans son propre processus",
              "needs working Twilio credentials": "il faut des identifiants Twilio valides",
              "needs the Twilio secrets": "il faut les secrets Twilio",
              "the local stack sends no email": "la pile locale n'envoie pas d'e-mail"}


def skip(name: str, reason: str) -> Check:
    """A check not run, for a reason that reads the same each time."""
    if reason.startswith("after the deploy ("):  # after the deploy (stack NAME not found)
        stack = reason.removeprefix("after the deploy (stack ").removesuffix(" not found)")
        return skipped(name, reason, f"après le déploiement (pile {stack} introuvable)")
    if reason.startswith("the local stack runs in "):
        return skipped(name, reason, "la pile locale tourne dans " +
                       reason.removeprefix("the local stack runs in "))
    return skipped(name, reason, REASONS_FR.get(reason, ""))


def run(setup: Setup) -> list[Check]:
    """Every check, in the order a first deploy meets them."""
    from decoy_ops import connect

    checks: list[Check] = []
    add = checks.append
    if setup.local:
        add(skip("python3.13", LOCAL_ONLY_DEPLOY))
        add(skip("AWS CLI", LOCAL_ONLY_DEPLOY))
        add(skip("AWS credentials", "the local stack's AWS is moto"))
        add(skip("region", f"the local stack runs in {setup.region}"))
        aws_ok = True
    else:
        add(python313(setup.find_python313))
        add(aws_cli(setup.which))
        add(credentials(setup.aws("sts")))
        add(region(setup.region, setup.samconfig_region))
        aws_ok = checks[-2].status == OK
    if aws_ok:
        add(guarded("EventBridge Scheduler", lambda: scheduler(setup.aws("scheduler"),
                                                               setup.region)))
    else:
        add(skip("EventBridge Scheduler", "needs AWS credentials"))

    deployed = _deployed(setup.stack)
    parameters = _parameters(setup.stack, deployed is None)
    secrets_ok = True
    for parameter, required in SECRETS:
        if not aws_ok:
            add(skip(f"secret {parameter}", "needs AWS credentials"))
            secrets_ok = False
            continue
        found = guarded(f"secret {parameter}", lambda p=parameter, r=required: secret(
            setup.aws("ssm"), p, parameters[p], r))
        add(found)
        secrets_ok &= found.status != FAIL
    if setup.local:
        add(skip("Lambda concurrency", "the local stack runs the functions in-process"))
    elif aws_ok:
        reserved = parameters.get("ReceiverReservedConcurrency", "")
        add(guarded("Lambda concurrency", lambda: concurrency(
            setup.aws("lambda"), int(reserved) if reserved.isdigit() else None)))
    else:
        add(skip("Lambda concurrency", "needs AWS credentials"))

    campaigns_check, campaigns = campaigns_file(setup.load_campaigns)
    add(campaigns_check)
    client = _twilio(setup, parameters, secrets_ok, checks)
    after = ("numbers point at this stack", "voice fallback", "off the air", "usage triggers",
             "alarm email")
    if client is None:
        for campaign in campaigns:
            for entry in campaign.active_numbers:
                add(skip(f"number {campaign.id}/{entry.label}", "needs working Twilio "
                                                                   "credentials"))
        for name in ("Messaging Services", "SMS geo permissions", *after[:4]):
            add(skip(name, "needs working Twilio credentials"))
    else:
        owned = _numbers(client, campaigns, setup, checks)
        add(guarded("Messaging Services", lambda: messaging_services(client, owned)))
        default_codes = tuple(parameters.get("AllowedCountryCodes", "").split(","))
        codes = {code for c in campaigns for code in c.allowed_codes(default_codes) if code}
        add(guarded("SMS geo permissions", lambda: geo_permissions(client, codes)))
        if deployed is not None:
            for name in after[:4]:
                add(skip(name, f"after the deploy ({deployed})"))
        else:
            wanted = connect.wanted_settings(setup.stack.output("SmsWebhookUrl", "-"),
                                             setup.stack.output("VoiceWebhookUrl", "-"))
            # A retired number still answers until it is released in Twilio: while the
            # account holds it, it must point at this stack and fall back like the others.
            live = {n: r for n, r in {**owned, **_retired(client, campaigns)}.items()
                    if r is not None}
            add(webhooks(live, wanted, setup.connect_command))
            add(voice_fallback(live, setup.reject_url(), setup.connect_command))
            add(off_air(live, setup.connect_command))
            add(guarded("usage triggers", lambda: _triggers(client, setup)))
    if deployed is not None:
        add(skip("kill switch", f"after the deploy ({deployed})"))
    elif aws_ok:
        add(guarded("kill switch", lambda: kill_switch(
            setup.aws("ssm"), setup.stack.output("KillSwitchParameterName", "-"))))
    else:
        add(skip("kill switch", "needs AWS credentials"))
    if setup.local:
        add(skip("alarm email", "the local stack sends no email"))
    elif deployed is not None:
        add(skip("alarm email", f"after the deploy ({deployed})"))
    else:
        add(guarded("alarm email", lambda: alarm_email(
            setup.aws("sns"), setup.stack.output("AlarmTopicArn", "-"))))
    return checks


def _deployed(stack: Any) -> str | None:
    """None when the stack is deployed (its outputs readable), else why not, in a few words."""
    try:
        stack.output("SmsWebhookUrl", "-")
    except OpsError:
        return f"stack {stack.name or '?'} not found"
    return None


def _parameters(stack: Any, deployed: bool) -> dict[str, str]:
    """The deployed stack's Parameters, else those `sam deploy` would use."""
    values = deploy_parameters()
    if deployed:
        for name in list(values):
            with contextlib.suppress(OpsError):
                values[name] = stack.parameter(name, "-")
    return values


def _twilio(setup: Setup, parameters: Mapping[str, str], secrets_ok: bool,
            checks: list[Check]) -> Any | None:
    """A Twilio client whose credentials work (the account check's line added), else None."""
    name = "Twilio account"
    try:
        sid, token = setup.credentials(lambda p: parameters[p])
    except (OpsError, ClientError, BotoCoreError) as exc:
        reason = "needs the Twilio secrets" if not secrets_ok else str(exc)
        checks.append(skip(name, reason) if not secrets_ok else fail(name, reason))
        return None
    client = setup.twilio(sid, token)
    found = guarded(name, lambda: twilio_account(client, sid))
    checks.append(found)
    return client if found.status == OK else None


def _retired(client: Any, campaigns: Sequence[Campaign]) -> dict[str, Any]:
    """The retired numbers the account still holds (None for one already released)."""
    return {entry.number: offair.find_number(client, entry.number)
            for campaign in campaigns for entry in campaign.numbers if not entry.active}


def _numbers(client: Any, campaigns: Sequence[Campaign], setup: Setup,
             checks: list[Check]) -> dict[str, Any]:
    """One line per active number; the account's resources of those it owns."""
    owned: dict[str, Any] = {}
    for campaign in campaigns:
        for entry in campaign.active_numbers:
            label = f"number {campaign.id}/{entry.label}"
            resource: list[Any] = []
            found = guarded(label, lambda n=entry.number, got=resource, name=label: (
                got.append(offair.find_number(client, n)) or ok(name, "")))
            if found.status != OK:
                checks.append(found)
                continue
            checks.append(number(campaign, entry.number, resource[0],
                                 placeholders_allowed=setup.local))
            owned[entry.number] = resource[0]
    return owned


def _triggers(client: Any, setup: Setup) -> Check:
    from decoy_ops import connect

    existing = client.usage.triggers.list(limit=200)
    return usage_triggers([plan for wanted, url in setup.wanted_triggers()
                           for plan in connect.plan_triggers(existing, wanted, url)],
                          setup.connect_command)


def local_twilio(client: Any, base_url: str) -> Any:
    """Every Twilio domain preflight reads (api, messaging, accounts) at one fake's URL."""
    for domain in (client.api, client.messaging, client.accounts):
        domain.base_url = base_url.rstrip("/")
    return client
