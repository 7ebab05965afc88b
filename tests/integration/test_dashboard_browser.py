"""The dashboard in a real browser (Debian's chromium driven by Playwright; no browser download): a new customer
signs up, creates a key (read once) and revokes it, sets a webhook and sends a test event to a local receiver,
adds a card through localstripe's stand-in Stripe.js, buys the starter package and sees 120 credits, runs an
echo job; then, made admin, toggles maintenance and adjusts the second customer's balance. A second customer is
present throughout and sees none of it (until that adjustment).

The page is phone-sized (412 px wide): every step must work there. A screenshot is taken after each step;
they are kept (under a temp folder, printed) only when the test fails.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from standardwebhooks import Webhook

from localdev.emulators import free_port
from localdev.web import dashboard_config, web_server
from shared.core.clients import firestore_client, project_scope
from tests.conftest import Project
from tests.support.auth import make_admin, sign_in, sign_up
from tests.support.platform import ApiClient
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 60_000


@pytest.fixture
def dashboard(auth_project: Project, tmp_path: Path) -> Iterator[str]:
    """The built dashboard served like `make dev` serves it, for the Auth emulator's project."""
    if not (Path(__file__).resolve().parents[2] / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run the tests through `make test` (it builds the dashboard)")
    stack = auth_project.stack
    port = free_port()
    server = web_server(
        port,
        auth_project.function_url("api"),
        dashboard_config(auth_project.id, stack.auth_host, stack.stripe_api_base),
        tmp_path,
    ).start(timeout=30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


class Steps:
    """Runs named steps, screenshotting after each; on failure the folder is kept and named."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.folder = Path(tempfile.mkdtemp(prefix="dashboard-screens-"))
        self.count = 0

    def shot(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def test_a_customer_does_everything_from_the_dashboard(auth_project: Project, dashboard: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        )
    from playwright.sync_api import expect, sync_playwright

    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    auth_host = auth_project.stack.auth_host
    other = sign_up(auth_host)  # the second customer, present all along
    assert api.request("POST", "/v1/account", token=other.id_token).status_code == 201
    email = f"newcomer-{os.urandom(4).hex()}@example.com"
    password = "dashboard-" + os.urandom(6).hex()

    with sync_playwright() as pw, WebhookReceiver() as receiver:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 412, "height": 915})
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        # Expectations wait as long as actions: their own 5 s default failed a correct page on a loaded machine.
        expect.set_options(timeout=STEP_TIMEOUT_MS)
        page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before revoke/maintenance
        steps = Steps(page)
        failed = True
        try:
            # Sign up.
            page.goto(dashboard + "/")
            page.get_by_role("button", name="New here? Create an account").click()
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign up").click()
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            expect(page.get_by_test_id("credits")).to_have_text("0")
            steps.shot("overview")

            # An API key: plaintext read once, works, then revoked.
            page.get_by_role("link", name="API keys").click()
            page.get_by_label("Name").fill("browser key")
            page.get_by_role("button", name="Create key").click()
            key = page.get_by_test_id("new-key").input_value()
            assert key.startswith("sk_test_")
            assert api.request("GET", "/v1/whoami", token=key).status_code == 200
            steps.shot("key-created")
            prefix = key[:12]
            page.get_by_role("button", name=f"Revoke {prefix}").click()
            expect(page.get_by_test_id(f"status-{prefix}")).to_have_text("revoked")
            eventually(lambda: api.request("GET", "/v1/whoami", token=key).status_code == 401, 20, "revoked")
            steps.shot("key-revoked")

            # The webhook: secret shown once, a test event reaches the local receiver, signed with it.
            page.get_by_role("link", name="Webhook").click()
            page.get_by_label("Endpoint URL").fill(receiver.url("/dashboard"))
            page.get_by_role("button", name="Save endpoint").click()
            secret = page.get_by_test_id("webhook-secret").input_value()
            assert secret.startswith("whsec_")
            page.get_by_role("button", name="Send test event").click()
            delivered = eventually(lambda: receiver.received(), 30, "test event delivered")
            event = Webhook(secret).verify(delivered[0].body, delivered[0].headers)
            assert event["type"] == "webhook.test"
            page.get_by_role("button", name="Refresh").click()
            expect(page.get_by_test_id("delivery-status").first).to_have_text("200")
            steps.shot("webhook")

            # A card through Stripe Elements (localstripe's stand-in Stripe.js).
            page.get_by_role("link", name="Payment methods").click()
            page.get_by_role("button", name="Add a card").click()
            page.get_by_label("number").fill("4242424242424242")
            page.get_by_label("exp month").fill("12")
            page.get_by_label("exp year").fill("34")
            page.get_by_label("cvc").fill("123")
            page.get_by_label("postal code").fill("10001")
            page.get_by_role("button", name="Save card").click()
            expect(page.get_by_test_id("card")).to_have_text("Visa ending in 4242 · expires 12/2034")
            steps.shot("card")

            # Buy the starter package: the status follows it until the credits are granted. The first
            # answer is lost on the way back (the platform did charge): the click after it must send the
            # same Idempotency-Key, so it answers that purchase instead of charging a second time.
            sent_keys: list[str] = []
            losing = [True]

            def answers_lost(route: Route) -> None:
                sent_keys.append(route.request.headers.get("idempotency-key", ""))
                if losing[0]:
                    route.fetch()  # reaches the platform: the purchase is made (or replayed)...
                    route.abort("timedout")  # ...and its answer never arrives, whatever the client retries
                else:
                    route.continue_()

            page.route("**/v1/purchases", answers_lost)
            page.get_by_role("link", name="Buy credits").click()
            page.get_by_role("button", name="Buy Starter").click()
            expect(page.get_by_role("alert")).to_contain_text("could not be reached")
            losing[0] = False
            page.get_by_role("button", name="Buy Starter").click()
            expect(page.get_by_test_id("purchase-status")).to_have_text("Starter: 120 credits added.")
            expect(page.get_by_test_id("credits")).to_have_text("120")
            page.unroute("**/v1/purchases")
            assert len(sent_keys) >= 2 and sent_keys[0] and set(sent_keys) == {sent_keys[0]}, sent_keys
            steps.shot("bought")
            page.get_by_role("link", name="Credits ledger").click()
            expect(page.get_by_role("cell", name="+120")).to_be_visible()
            steps.shot("ledger")

            # The purchase is a paid credit grant, shown with what is left and its expiry; auto top-up is
            # set on the same page, and its state shown.
            expect(page.get_by_test_id("grant-remaining")).to_have_text("120 of 120")
            expect(page.get_by_test_id("grant-expires")).to_have_text("never")
            page.get_by_label("Buy credits automatically when the balance is low").check()
            page.get_by_label("Below (credits)", exact=True).fill("50")
            page.get_by_label("Package", exact=True).fill("starter")
            page.get_by_label("Monthly limit (US cents)").fill("2000")
            page.get_by_role("button", name="Save auto top-up").click()
            expect(page.locator("#notice")).to_have_text("Auto top-up saved.")
            page.get_by_role("link", name="Overview").click()
            page.get_by_role("link", name="Credits ledger").click()
            expect(page.get_by_test_id("auto-top-up-state")).to_contain_text("On")
            steps.shot("auto-top-up")
            # A charge failed (its effect as shared/billing/auto_top_up.py records it): the overview says so.
            with project_scope(auth_project.id):
                firestore_client().collection("auto_top_up").document(
                    sign_in(auth_host, email, password).uid
                ).update({"enabled": False, "disabled_reason": "card_declined"})
            page.get_by_role("link", name="Overview").click()
            expect(page.get_by_test_id("auto-top-up-banner")).to_contain_text("card was declined")
            steps.shot("auto-top-up-off")

            # An echo job with a new test key (the page keeps the key created in this visit).
            page.get_by_role("link", name="API keys").click()
            page.get_by_label("Name").fill("jobs key")
            page.get_by_role("button", name="Create key").click()
            expect(page.get_by_test_id("new-key")).to_have_value(re.compile(r"^sk_test_"))
            # Roll it with a grace period: a new key is shown once; the old one keeps working meanwhile.
            old_key = page.get_by_test_id("new-key").input_value()
            page.get_by_label(f"Grace period when rolling {old_key[:12]}").select_option(label="1 hour")
            page.get_by_role("button", name="Roll").click()
            expect(page.get_by_test_id("new-key")).not_to_have_value(old_key)
            new_key = page.get_by_test_id("new-key").input_value()
            for usable in (old_key, new_key):
                assert api.request("GET", "/v1/whoami", token=usable).status_code == 200
            steps.shot("key-rolled")
            page.get_by_role("link", name="Jobs").click()
            page.get_by_role("button", name="Run echo job").click()
            expect(page.get_by_test_id("job-status").first).to_have_text("completed", timeout=40_000)
            steps.shot("jobs")

            # The overview's usage chart: an image named for screen readers, its numbers also as a table.
            page.get_by_role("link", name="Overview").click()
            expect(
                page.get_by_role("img", name=re.compile("Requests and credits spent per day"))
            ).to_be_visible()
            page.get_by_text("Show the numbers as a table").click()
            steps.shot("usage-chart")

            # The other customer saw none of it.
            assert api.request("GET", "/v1/account", token=other.id_token).json()["credits"] == 0
            assert api.request("GET", "/v1/api_keys", token=other.id_token).json()["data"] == []
            assert page.get_by_role("link", name="Admin").count() == 0

            # Admin: the claim from firebase-admin, effective after signing in again.
            make_admin(auth_project.id, sign_in(auth_host, email, password).uid)
            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Admin").click()
            expect(page.get_by_test_id("maintenance")).to_have_text("off")
            page.get_by_role("button", name="Turn maintenance on").click()
            expect(page.get_by_test_id("maintenance")).to_have_text("on")
            assert api.request("GET", "/v1/account", token=other.id_token).status_code == 503
            steps.shot("maintenance-on")
            # Customers' pages say so in words.
            page.get_by_role("link", name="Overview").click()
            expect(page.get_by_role("alert")).to_contain_text("maintenance")
            page.get_by_role("link", name="Admin").click()
            page.get_by_role("button", name="Turn maintenance off").click()
            expect(page.get_by_test_id("maintenance")).to_have_text("off")
            assert api.request("GET", "/v1/account", token=other.id_token).status_code == 200
            steps.shot("maintenance-off")

            # A balance correction for the other customer: an adjustment entry with the reason.
            page.get_by_label("User id", exact=True).fill(other.uid)
            page.get_by_label("Credits", exact=True).fill("25")
            page.get_by_label("Reason", exact=True).fill("Welcome bonus")
            page.get_by_role("button", name="Adjust balance").click()
            expect(page.get_by_test_id("adjustment")).to_have_text("+25 credits; balance now 25.")
            assert api.request("GET", "/v1/account", token=other.id_token).json()["credits"] == 25
            [adjusted] = api.request("GET", "/v1/credits/ledger", token=other.id_token).json()["data"]
            assert (adjusted["type"], adjusted["description"]) == ("adjustment", "Welcome bonus")
            steps.shot("adjustment")

            # A job type with callback completion and flow control, made on the admin page.
            page.get_by_label("Type", exact=True).fill("render")
            page.get_by_label("Worker URL").fill("http://127.0.0.1:9/render")
            page.get_by_label("Pricing (JSON)").fill('{"credits": 3}')
            page.get_by_label("Completion").select_option("callback")
            page.get_by_label("Max concurrency").fill("3")
            page.get_by_label("Max rate (dispatches/s)").fill("2.5")
            page.get_by_role("button", name="Save job type").click()
            expect(page.get_by_text("Job type render saved.")).to_be_visible()
            expect(page.get_by_role("cell", name="2.5/s")).to_be_visible()
            admin_token = sign_in(auth_host, email, password).id_token
            types = api.request("GET", "/v1/admin/job_types", token=admin_token).json()["data"]
            [render] = [t for t in types if t["type"] == "render"]
            assert (render["completion"], render["max_concurrency"], render["max_rate_per_s"]) == (
                "callback",
                3,
                2.5,
            )
            steps.shot("job-type")
            failed = False
        finally:
            if failed:
                try:
                    steps.shot("failure")
                except Exception as exc:  # the page may be gone; the earlier screenshots still help
                    print(f"no failure screenshot: {exc}")
                print(f"dashboard screenshots: {steps.folder}")
            else:
                shutil.rmtree(steps.folder, ignore_errors=True)
            browser.close()
