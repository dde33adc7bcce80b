"""The web UI in a real headless Chromium (Debian's chromium + chromium-driver, Selenium).

One flow, as people would click it: a requester files a request; an approver
approves it from the inbox with a step-up; the requester sees the grant and fetches
its credentials once; an external developer is told why production cannot be
requested and cannot open another person's page by URL; the auditor downloads a
bundle that verifies offline. Every page is screenshot at desktop and phone width
and scanned with axe-core (no serious or critical violations).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import serve
from tests.server.conftest import PASSWORD, Person, World
from tests.web.test_promotion_inbox import submitted_promotion

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 900)
PHONE = (390, 844)


def _need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER, str(AXE)) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        message = f"browser tests need {', '.join(missing)} (.ci/run installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def artifacts(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Path:
    out = Path(os.environ.get("STAGEWALL_ARTIFACTS", ROOT / "tmp" / "artifacts")) / "web"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with capsys.disabled():
        print(f"\nweb screenshots and accessibility reports: {out}")
    return out


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        opts.add_argument(arg)
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    d.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield d
    finally:
        d.quit()


class Pages:
    """Drives one browser; screenshots and scans each page it lands on."""

    def __init__(self, driver: Any, base: str, out: Path) -> None:
        self.d = driver
        self.base = base
        self.out = out
        self.scanned: dict[str, list[dict[str, Any]]] = {}

    def open(self, path: str) -> None:
        self.d.get(self.base + path)

    def by(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.d.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.d.find_elements(By.CSS_SELECTOR, css))

    def text(self) -> str:
        from selenium.common.exceptions import WebDriverException

        try:
            return str(self.by("main").text)
        except WebDriverException:  # the page is being replaced
            return ""

    def fill(self, css: str, value: str) -> None:
        el = self.by(css)
        el.clear()
        el.send_keys(value)

    def shoot(self, name: str) -> None:
        """Screenshots at desktop and phone width, and the axe-core scan of the page."""
        for label, (w, h) in (("desktop", DESKTOP), ("phone", PHONE)):
            self.d.set_window_size(w, h)
            # The phone layout must not scroll sideways.
            width = self.d.execute_script("return document.documentElement.scrollWidth")
            self.d.save_screenshot(str(self.out / f"{name}-{label}.png"))
            assert width <= w + 1, f"{name} is {width}px wide at {label} width {w}px"
        self.d.set_window_size(*DESKTOP)
        self.d.execute_script(AXE.read_text(encoding="utf-8"))
        got = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then(r => done({violations: r.violations, passes: r.passes.length}))"
            ".catch(e => done({passes: 0, violations: [{id: 'axe-error',"
            " impact: 'critical', help: String(e), nodes: []}]}));"
        )
        assert got["passes"] > 0, f"axe-core did not run on {name}"
        assert "<Macro" not in self.text() and "Undefined" not in self.text()
        violations = got["violations"]
        self.scanned[name] = violations
        (self.out / f"{name}-axe.json").write_text(json.dumps(violations, indent=2))

    def sign_in(self, person: Person) -> None:
        self.d.delete_all_cookies()
        self.open("/login")
        self.fill("#principal", person.name)
        self.fill("#password", PASSWORD)
        self.fill("#otp", person.otp())
        self.by("form.stack button[type=submit]").click()
        self.wait(lambda: self.d.current_url.rstrip("/") == self.base)

    def register_passkey(self, person: Person) -> None:
        """On /security, a passkey named laptop (stepping up with the person's code)."""
        self.open("/security")
        self.fill("#pk-name", "laptop")
        self.fill("#pk-otp", person.otp())
        self.by("#passkey-register button[type=submit]").click()
        self.wait(lambda: "registered" in self.by("#passkey-register .passkey-status").text)

    def wait(self, cond: Any, timeout: float = 30) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.d, timeout).until(lambda _d: cond())

    def serious(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for page, found in self.scanned.items():
            bad = [v for v in found if v.get("impact") in ("serious", "critical")]
            if bad:
                out[page] = [f"{v['id']} ({v['impact']}): {v['help']}" for v in bad]
        return out


def _enable_passkeys(world: World, port: int) -> None:
    """server.webauthn for this run: passkeys for localhost, the page's exact origin."""
    text = world.config.read_text(encoding="utf-8")
    ours = f"  webauthn:\n    rp_id: localhost\n    origins: [http://localhost:{port}]\n"
    text, n = re.subn(r"  webauthn:\n    rp_id: .*\n    origins: .*\n", ours, text)
    if n == 0:
        text = text.replace("server:\n", "server:\n" + ours, 1)
    world.config.write_text(text, encoding="utf-8")
    world.state.refresh()
    assert world.state.settings.webauthn is not None


def _virtual_authenticator(driver: Any) -> str:
    """Chrome's WebAuthn virtual authenticator (CDP): a platform passkey that verifies the user."""
    driver.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    got = driver.execute_cdp_cmd(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return str(got["authenticatorId"])


def test_full_flow_in_chromium(
    world: World, people: dict[str, Person], driver: Any, artifacts: Path, tmp_path: Path
) -> None:
    from tests.live_server import bound_socket

    alice, bob, dana, audrey = (people[n] for n in ("alice", "bob", "dana", "audrey"))
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    _enable_passkeys(world, port)
    authenticator = _virtual_authenticator(driver)
    with serve(world.state, run_sweeper=False, sock=sock) as served:
        base = served.replace("127.0.0.1", "localhost")
        ui = Pages(driver, base, artifacts)

        # Signed out, a page sends you to the sign-in form and back.
        ui.open("/access")
        assert "/login?next=%2Faccess" in driver.current_url
        ui.shoot("login")
        ui.open("/invite?token=example")
        ui.shoot("invite")

        # The requester files two requests.
        ui.sign_in(alice)
        rids = []
        for role, reason in (
            ("prod-read", "INC-42: slow checkout query"),
            ("staging-write", "OPS-7"),
        ):
            ui.open("/request")
            if not rids:
                ui.shoot("request")
            ui.by(f"#role-{role}").click()
            ui.fill("#duration", "1h")
            ui.fill("#reason", reason)
            ui.fill("#ticket", "OPS-42")
            ui.by("form.stack button[type=submit]").click()
            ui.wait(lambda: "filed" in ui.text())
            rids.append(ui.by(".notice code").text)
        ui.open("/")
        assert "prod-read" in ui.text() and "bob" in ui.text()
        ui.shoot("inbox-requester")

        # The approver registers a passkey (stepping up with the code he has) ...
        ui.sign_in(bob)
        ui.register_passkey(bob)
        ui.open("/security")
        assert "laptop" in ui.text()
        ui.shoot("security")
        creds = driver.execute_cdp_cmd(
            "WebAuthn.getCredentials", {"authenticatorId": authenticator}
        )
        assert len(creds["credentials"]) == 1

        # ... and approves both requests from the inbox with one passkey step-up.
        ui.open("/")
        card = ui.by(f"article[aria-labelledby='r-{rids[0]}']")
        assert "INC-42" in card.text and "OPS-42" in card.text and "internal" in card.text
        ui.shoot("inbox-approver")
        for rid in rids:
            ui.by(f"input[type=checkbox][value='access:{rid}']").click()
        ui.by("#batch button[data-passkey][value=approve]").click()
        ui.wait(lambda: ui.all(".results"))
        results = ui.by(".results").text
        assert results.count("approved") == 2, results
        ui.shoot("inbox-decided")

        # A pipeline's promotion waits in his inbox with its commits and checks; he
        # approves it with the passkey.
        pid, sha = submitted_promotion(world, tmp_path)
        ui.open("/")
        card = ui.by(f"article[aria-labelledby='p-{pid}']")
        assert "tests: pass" in card.text and "deploybot" in card.text, card.text
        ui.shoot("inbox-promotion")
        card.find_element("css selector", "button[data-passkey][value=approve]").click()
        ui.wait(lambda: ui.all(".results"))
        assert f"promotion {pid} of {sha[:12]}: approved" in ui.by(".results").text

        # He could break glass from the form (not now: he is not on call).
        ui.open("/break-glass/new")
        assert ui.all("form[action='/break-glass/new']")
        ui.shoot("break-glass-form")
        windows = [
            e for e in world.events() if e.code == "identity.step_up" and "expires_at" in e.details
        ]
        assert windows and windows[-1].details["factor"] == "webauthn"
        reviews = [e for e in world.events() if e.code == "access.review.recorded"]
        assert [e.actor for e in reviews] == ["bob", "bob"]

        # The requester sees the grant with its time left and gets the credentials once.
        ui.sign_in(alice)
        ui.open("/access")
        grants = ui.all("article.grant")
        assert len(grants) == 2 and all("left" in g.text for g in grants)
        grant = next(g for g in grants if "prod-read" in g.text)
        ui.shoot("my-access")
        otp_field = grant.find_element("css selector", "input[name=otp]")
        otp_field.send_keys(alice.otp())
        grant.find_element(
            "css selector", "form[action$='/credentials'] button[type=submit]"
        ).click()
        ui.wait(lambda: ui.all("code[data-secret=yes]"))
        secret = ui.by("code[data-secret=yes]").text
        assert len(secret) >= 16
        ui.shoot("credentials")

        # An external developer: production cannot be requested, and the form says why.
        ui.sign_in(dana)
        ui.open("/request")
        assert not ui.all("#role-prod-read")
        why = ui.by("#closed-production").text
        assert "production cannot be requested" in why and "Externals never hold" in why
        assert "prod-read" not in ui.text()  # no production role's name reaches an external
        ui.shoot("request-external")
        # ... and another person's page, typed as a URL, is refused.
        ui.open("/people/alice")
        assert "Not allowed" in ui.text() and "may not see the page of 'alice'" in ui.text()
        assert "prod-read" not in ui.text()
        ui.shoot("refused")
        ui.open("/audit")
        assert "Not allowed" in ui.text()

        # The auditor reads the log and downloads a bundle that verifies offline.
        ui.sign_in(audrey)
        ui.open("/audit?type=access.")
        assert "access.request.created" in ui.text()
        ui.shoot("audit")
        ui.open("/grants")
        ui.shoot("grants")
        ui.open("/estate")
        ui.shoot("estate")
        ui.open("/evidence")  # queues the evaluation in the background ...
        ui.shoot("evidence-evaluating")
        world.state.evaluate_in_background().result(timeout=300)
        ui.open("/evidence")  # ... and shows it once done
        assert "separation.external_production" in ui.text() or "access." in ui.text()
        ui.shoot("evidence")
        ui.open("/break-glass/new")  # an external auditor is told why she cannot
        assert "break-glass is for internal principals only" in ui.text() or (
            "externals never hold" in ui.text()
        )
        ui.shoot("break-glass-external")
        ui.open("/requests?status=approved")
        assert rids[0] in ui.text()
        ui.by(f"a[href='/audit?of=request%3A{rids[0]}']").click()
        ui.wait(lambda: "Events of request" in ui.text())
        ui.shoot("audit-object")
        for page in ("requests", "promotions", "reviews", "break-glass", "vendors"):
            ui.open("/" + page)
            assert "Not allowed" not in ui.text()
            ui.shoot(page)
        ui.open("/audit")
        ui.by("form[action='/audit/bundle'] button").click()
        ui.wait(lambda: list(driver.downloads.glob("*.zip")), timeout=60)
        (zipped,) = list(driver.downloads.glob("*.zip"))
        # The auditor has no decision button anywhere.
        ui.open("/")
        assert not ui.all("form[action='/decide']")

    from stagewall.audit._bundle import verify_bundle
    from stagewall.keys import load_public_key

    extracted = artifacts / "bundle"
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(extracted)
    (bundle,) = list(extracted.iterdir())
    report = verify_bundle(bundle, public_key=load_public_key(world.home))
    assert report.size >= 10
    assert not ui.serious(), ui.serious()


def test_device_page_signed_in_with_a_passkey_in_chromium(
    world: World, people: dict[str, Person], driver: Any, artifacts: Path
) -> None:
    """A signed-in person opens a terminal's /device link: the page shows who asked and
    approves with a passkey click (app.js), nothing typed; it passes axe-core."""
    import httpx

    from tests.live_server import bound_socket

    bob = people["bob"]
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    _enable_passkeys(world, port)
    _virtual_authenticator(driver)
    with serve(world.state, run_sweeper=False, sock=sock) as served:
        base = served.replace("127.0.0.1", "localhost")
        ui = Pages(driver, base, artifacts)
        ui.sign_in(bob)
        ui.register_passkey(bob)

        with httpx.Client(base_url=served, headers={"User-Agent": "stagewall-cli"}) as cli:
            code = cli.post("/api/v1/device/code", data={"client_hostname": "bobs-laptop"})
            assert code.status_code == 200, code.text
            asked = code.json()
            ui.open(f"/device?user_code={asked['user_code']}")
            text = ui.text()
            assert "Signed in as bob (local)" in text, text
            assert "bobs-laptop" in text and "stagewall-cli" in text
            ui.shoot("device")
            ui.by("button[data-passkey][value=approve]").click()
            ui.wait(lambda: "Signed in" in ui.text() and "return to the terminal" in ui.text())
            world.clock.advance(timedelta(seconds=3))
            got = cli.post(
                "/api/v1/device/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code": asked["device_code"],
                },
            )
            assert got.status_code == 200 and got.json()["principal"] == "bob", got.text
    [event] = [e for e in world.events() if e.code == "identity.device.approved"]
    assert event.details["factor"] == "webauthn" and event.details["decided_via"] == "page"
    assert not ui.serious(), ui.serious()
