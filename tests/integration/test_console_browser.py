"""The local console in a real browser: headless Debian Chromium driven by Playwright.

`make run` in a subprocess (free ports, time scale 1: replies wait for the skip button),
then, as a person would with the keyboard and the mouse: text the decoy, see the reply
reach the outbox and its delivery callback, flood, turn the kill switch on. With
CONSOLE_SCREENSHOTS=DIR (`make screenshots`), the page is saved after the SMS + reply and
after the flood.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import local_stack_process
import pytest

from decoy.outcomes import Metric, Outcome
from decoy.phone import mask
from decoy_local import ROOT
from decoy_local.simulator import mobile_numbers
from decoy_local.webhooks import loopback_request

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run installs "
                "it): the console's browser test cannot run", allow_module_level=True)
if os.environ.get("DECOY_CLOCK_SHIFT"):
    pytest.skip("the shifted-clock run adds nothing here: the stack runs on --clock-start "
                "(CLOCK_START), whatever the machine's clock", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -r "
                                  "requirements-dev.txt): the console's browser test cannot run")

# The flags this machine's Chromium needs (no sandbox as root, no network beyond loopback);
# Playwright adds --headless itself. Its launch options: playwright.dev/python/docs/api/
# class-browsertype#browser-type-launch-persistent-context (executable_path, args).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
BUDGET = 10
FLOOD = 30
WAIT_MS = 30_000  # the longest any one expectation waits (a generous bound, not a timing)
VIEWPORT = {"width": 1400, "height": 1000}
E164 = re.compile(r"\+\d{6,}")


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    run = local_stack_process.start(tmp_path_factory.mktemp("console"), BUDGET)
    yield run
    run.stop()


@pytest.fixture(scope="module")
def stack(running):
    return running.stack


def connect(running) -> None:
    """`make ops ARGS="connect --local --apply"`, as the page tells the operator to run it."""
    done = subprocess.run([sys.executable, "-m", "decoy_ops", "connect", "--apply", "--local",
                           str(running.state)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport=VIEWPORT, locale="en-GB")
        try:
            context.set_default_timeout(WAIT_MS)
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_text_reply_flood_and_kill_switch_in_a_browser(running, stack, page):
    expect = sync_api.expect
    harasser, caller, late = mobile_numbers("33", 3)
    page.goto(f"{stack.api_url}/?lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert page.locator("html").get_attribute("lang") == "en"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => !document.querySelector(`label[for="${e.id}"]`)).map(e => e.id)""")
    assert unlabelled == []

    # The harasser texts the decoy, with the keyboard only.
    page.fill("#from", harasser)
    page.fill("#body", "on se voit quand ?")
    page.focus("#forged")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send-sms"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_contain_text(Outcome.Scheduled.sentence("en"))
    expect(page.locator("#answer")).to_contain_text("Nothing comes back right away")
    expect(page.locator("#answer")).to_contain_text("The reply will arrive in about 3600 s")
    expect(page.locator("#pending")).to_contain_text("Replies waiting: 1")

    # Time scale 1: the reply waits an hour, unless the delay is skipped; the phone panel
    # then shows it arriving.
    page.click("#skip")
    expect(page.locator("#answer")).to_contain_text("The reply has arrived on the phone: "
                                                    "“Bonjour ! Si vous lisez ce message")
    assert "3600 s" not in page.inner_text("#answer")
    reply = page.locator("#outbox tbody tr", has_text=mask(harasser))
    expect(reply).to_contain_text("Bonjour ! Si vous lisez ce message")
    expect(reply).to_contain_text("delivered")  # the signed status callback came back
    expect(page.locator("#counters")).to_contain_text("fr")
    expect(page.locator("#counters")).to_contain_text("(retired)")  # fr-be's burnt number
    assert "retiré" not in page.inner_text("body")
    shown = page.inner_text("body")
    assert harasser not in shown and mask(harasser) in shown
    screenshot(page, "console.png")

    # A caller hears the voicemail and will get the same reply; a foreign one gets no reply
    # (the page shows "Call rejected" if the receiver answers <Reject>; it does not yet).
    # The caller's number typed as a French person writes it: read in the campaign's country.
    national = "0" + caller[3:4] + " " + " ".join(caller[i:i + 2] for i in range(4, 12, 2))
    page.fill("#from", national)
    page.click("#call")
    expect(page.locator("#answer")).to_contain_text(
        f"Read as +33 {caller[3]} {' '.join(caller[i:i + 2] for i in range(4, 12, 2))}")
    expect(page.locator("#answer")).to_contain_text("Voicemail: “Bonjour, vous êtes bien")
    expect(page.locator("#answer")).to_contain_text(Outcome.Scheduled.sentence("en"))
    page.fill("#from", "+12025550123")  # outside AllowedCountryCodes (33, 32)
    page.click("#call")
    expect(page.locator("#answer")).to_contain_text(Outcome.BlockedCountry.sentence("en"))
    expect(page.locator("#answer")).to_contain_text("No reply will be sent")
    page.fill("#from", "hello")
    page.click("#call")
    expect(page.locator("#answer")).to_contain_text("e.g. +33 6 12 34 56 78")

    # A flood of distinct senders: the daily budget holds.
    page.fill("#flood-count", str(FLOOD))
    page.click("#flood")
    expect(page.locator("#flood-result")).to_have_attribute("data-done", "true")
    result = page.inner_text("#flood-result")
    assert result.startswith(f"{FLOOD} texts in ")
    assert f"{FLOOD - (BUDGET - 2)} × {Outcome.BlockedBudget.sentence('en')}" in result
    expect(page.locator("#budget-text")).to_have_text(f"{BUDGET} used of {BUDGET}, 0 left")
    page.click("#skip")
    expect(page.locator("#outbox tbody tr[data-sid]")).to_have_count(BUDGET)
    expect(page.locator("#outbox td.status-delivered")).to_have_count(BUDGET)
    screenshot(page, "console-flood.png")

    # The kill switch, as `decoy_ops kill-switch on` turns it: then nothing is scheduled.
    toggle = page.locator("#kill-switch")
    expect(toggle).to_have_attribute("aria-checked", "false")
    expect(toggle).to_have_text("Stop all replies")  # labelled by what a click does
    expect(page.locator("#kill-note")).to_contain_text("reaches incoming messages at once")
    toggle.click()
    expect(toggle).to_have_attribute("aria-checked", "true")
    expect(toggle).to_have_text("Turn replies back on")
    expect(page.locator("#kill-state")).to_contain_text("Switched off")
    page.fill("#from", late)
    page.click("#send-sms")
    expect(page.locator("#answer")).to_contain_text(Outcome.KillSwitch.sentence("en"))
    expect(page.locator("#answer")).to_contain_text("No reply will be sent")
    page.check("#forged")
    page.click("#send-sms")
    expect(page.locator("#answer")).to_contain_text(
        f"Refused: {Metric.ForgedSignature.sentence('en')}")
    page.uncheck("#forged")

    # A spending alert (level 2): before `connect` none is set up, and the page says what to
    # run; after it, the numbers go off the air (the skip button moves the stack's clock past
    # the order's minute), the page says so and how to put them back; connect does.
    air = page.locator("#air-state")
    expect(air).to_have_text("The numbers are on the air: texts and calls reach the service.")
    page.click("#spending-alert")
    expect(page.locator("#alert-result")).to_contain_text("No alert went off")
    connect(running)
    page.click("#spending-alert")
    expect(page.locator("#alert-result")).to_contain_text("Alert received: the numbers go off "
                                                          "the air within")
    page.click("#skip")
    expect(air).to_contain_text("The numbers are off the air")
    expect(air).to_contain_text('make ops ARGS="connect --local --apply"')
    screenshot(page, "console-off-air.png")
    off_air_text = page.inner_text("body")
    connect(running)
    expect(air).to_have_attribute("data-off", "0")

    # People read sentences: no outcome code and no protocol word anywhere on the page.
    shown = page.inner_text("body") + "\n" + off_air_text
    codes = [n for n in [*Outcome.__members__, *Metric.__members__]
             if re.fullmatch(r"[A-Z][a-z]+[A-Z]\w*", n)]  # "Sent" is also a plain word
    for word in [*codes, "E.164", "TwiML", "webhook",
                 "KillSwitchCacheSeconds", "HTTP"]:
        assert not re.search(rf"\b{re.escape(word)}\b", shown), word

    # What the browser was given: masked numbers only (the typed one stays in its input).
    state = json.loads(loopback_request(f"{stack.api_url}/_local/console/state").body)
    assert E164.findall(json.dumps(state)) == []
    assert E164.findall(page.inner_text("body")) == []
    served = re.sub(r'placeholder="[^"]*"', "", page.content())  # a format example, not a number
    assert E164.findall(served) == []

    # Leave the stack as found: replies back on (the next test reads the switch's label).
    toggle.click()
    expect(toggle).to_have_attribute("aria-checked", "false")
    expect(toggle).to_have_text("Stop all replies")


def test_the_page_speaks_french(stack, page):
    page.goto(f"{stack.api_url}/?lang=fr")
    sync_api.expect(page.locator("h1")).to_have_text("Numéro anti-relou\u202f: console locale")
    # Polled once (counters, budget, kill switch filled in) before the page is read.
    sync_api.expect(page.locator("body")).to_have_attribute("data-ready", "true")
    sync_api.expect(page.locator("#kill-switch")).to_have_attribute("aria-checked", "false")
    sync_api.expect(page.locator("#kill-switch")).to_have_text("Couper toutes les réponses")
    sync_api.expect(page.locator("#budget-text")).to_contain_text("il en reste")
    # A pool's retired number (the shipped fr-be campaign): named in the page's language too.
    sync_api.expect(page.locator("#counters")).to_contain_text("(retiré\u202f: plus distribué)")
    assert "retired" not in page.inner_text("body")
    # The replies' own texts are SMS (GSM-7, no narrow space): the page's words, not theirs.
    shown = page.evaluate("""() => { const copy = document.body.cloneNode(true);
        copy.querySelector('#outbox tbody').remove(); return copy.innerText; }""")
    assert " :" not in shown and " ?" not in shown  # never a line break before a colon
    for word in ("Inondation", "Expéditeur", "webhook", "TwiML", "E.164"):
        assert word not in shown, word
    screenshot(page, "console-fr.png")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.click("a.lang")
    sync_api.expect(page.locator("h1")).to_have_text("Decoy number: local console")
