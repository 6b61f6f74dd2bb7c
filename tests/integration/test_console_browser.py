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
from pathlib import Path

import local_stack_process
import pytest

from decoy.phone import mask
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
def stack(tmp_path_factory):
    run = local_stack_process.start(tmp_path_factory.mktemp("console"), BUDGET)
    yield run.stack
    run.stop()


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


def test_text_reply_flood_and_kill_switch_in_a_browser(stack, page):
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
    expect(page.locator("#answer")).to_contain_text("Scheduled")
    expect(page.locator("#answer")).to_contain_text("No answer right now")
    expect(page.locator("#pending")).to_contain_text("Replies waiting: 1")

    # Time scale 1: the reply waits an hour, unless the delay is skipped.
    page.click("#skip")
    reply = page.locator("#outbox tbody tr", has_text=mask(harasser))
    expect(reply).to_contain_text("Bonjour ! Si vous lisez ce message")
    expect(reply).to_contain_text("delivered")  # the signed status callback came back
    expect(page.locator("#counters")).to_contain_text("fr")
    shown = page.inner_text("body")
    assert harasser not in shown and mask(harasser) in shown
    screenshot(page, "console.png")

    # A caller hears the voicemail and will get the same reply; a foreign one gets no reply
    # (the page shows "Call rejected" if the receiver answers <Reject>; it does not yet).
    page.fill("#from", caller)
    page.click("#call")
    expect(page.locator("#answer")).to_contain_text("Voicemail: «Bonjour, vous êtes bien")
    expect(page.locator("#answer")).to_contain_text("Scheduled")
    page.fill("#from", "+12025550123")  # outside AllowedCountryCodes (33, 32)
    page.click("#call")
    expect(page.locator("#answer")).to_contain_text("BlockedCountry")
    expect(page.locator("#answer")).to_contain_text("No reply will be sent")

    # A flood of distinct senders: the daily budget holds.
    page.fill("#flood-count", str(FLOOD))
    page.click("#flood")
    expect(page.locator("#flood-result")).to_have_attribute("data-done", "true")
    result = page.inner_text("#flood-result")
    assert f"{FLOOD} webhooks" in result
    assert f"BlockedBudget {FLOOD - (BUDGET - 2)}" in result
    expect(page.locator("#budget-text")).to_have_text(f"{BUDGET} used of {BUDGET}, 0 left")
    page.click("#skip")
    expect(page.locator("#outbox tbody tr[data-sid]")).to_have_count(BUDGET)
    expect(page.locator("#outbox td.status-delivered")).to_have_count(BUDGET)
    screenshot(page, "console-flood.png")

    # The kill switch, as `decoy_ops kill-switch on` turns it: then nothing is scheduled.
    toggle = page.locator("#kill-switch")
    expect(toggle).to_have_attribute("aria-checked", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-checked", "true")
    expect(page.locator("#kill-state")).to_contain_text("ON")
    page.fill("#from", late)
    page.click("#send-sms")
    expect(page.locator("#answer")).to_contain_text("KillSwitch")
    expect(page.locator("#answer")).to_contain_text("No reply will be sent")

    # What the browser was given: masked numbers only (the typed one stays in its input).
    state = json.loads(loopback_request(f"{stack.api_url}/_local/console/state").body)
    assert E164.findall(json.dumps(state)) == []
    assert E164.findall(page.inner_text("body")) == []
    served = re.sub(r'placeholder="[^"]*"', "", page.content())  # a format example, not a number
    assert E164.findall(served) == []


def test_the_page_speaks_french(stack, page):
    page.goto(f"{stack.api_url}/?lang=fr")
    sync_api.expect(page.locator("h1")).to_have_text("Numéro anti-relou : console locale")
    assert page.locator("html").get_attribute("lang") == "fr"
    sync_api.expect(page.locator("#budget-text")).to_contain_text("restantes")
    page.click("a.lang")
    sync_api.expect(page.locator("h1")).to_have_text("Decoy number: local console")
