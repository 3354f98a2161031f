"""A real headless Chromium (Debian's chromium + chromium-driver, via selenium) drives the page."""

import os
import shutil
import signal

import pytest

from support import SHORT_TIMEOUT, supervise_pid, wait_pid
from test_http_support import TICK_RUN, free_port, pv_http, service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1000,700")


@pytest.fixture
def browser(tmp_path, monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium.webdriver.chrome.service import Service
    monkeypatch.setenv("SE_OFFLINE", "true")     # never let selenium fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=%s" % (tmp_path / "chromium-profile"))
    service = Service(executable_path=DRIVER, popen_kw={"start_new_session": True})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(SHORT_TIMEOUT)
    try:
        yield driver
    finally:
        pid = service.process.pid if service.process else None
        try:
            driver.quit()
        finally:
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)   # chromedriver's session: chromium too
                except OSError:
                    pass


def _text(driver, css):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    try:
        return driver.find_element("css selector", css).text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def _click(wait, by, what):
    """Click what ``what`` finds, found again if the page redrew it in between
    (the table is rebuilt at every status update)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def clicked(driver):
        try:
            driver.find_element(by, what).click()
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        return True
    wait.until(clicked)


def test_page_restarts_a_service_and_tails_its_log(procs, tmp_path, browser):
    from selenium.webdriver.support.ui import WebDriverWait
    scan = tmp_path / "D"
    scan.mkdir()
    web = service(scan, "web")
    service(scan, "ticker", TICK_RUN, log=True, group="team\n")
    service(scan, "batch", group="team\n", down="")
    procs.pv_scan(scan, ["web", "ticker", "batch"])
    where = "127.0.0.1:%d" % free_port()
    pv_http(procs, scan, listen=[where])
    old = wait_pid(web)
    wait = WebDriverWait(browser, SHORT_TIMEOUT, poll_frequency=0.1)
    browser.get("http://%s/" % where)
    wait.until(lambda d: _text(d, "#row-web td.pid") == str(old))
    assert _text(browser, "#row-batch .state") == "down"
    assert _text(browser, "#row-web .state") == "running"
    _click(wait, "css selector", "#row-web button.restart")
    new = wait_pid(web, not_pid=old)
    wait.until(lambda d: _text(d, "#row-web td.pid") == str(supervise_pid(web)))
    assert supervise_pid(web) not in (0, old) and new != old
    _click(wait, "css selector", "#row-ticker button:last-child")
    wait.until(lambda d: _text(d, "#log").count("tick") >= 2)
    assert "group team" in _text(browser, "#groups")
    ticker = os.path.join(str(scan), "ticker")
    old_ticker = wait_pid(ticker)
    _click(wait, "xpath", "//div[@id='groups']/p/button[text()='restart']")
    wait.until(lambda d: _text(d, "#row-batch .state") == "running")
    assert wait_pid(ticker, not_pid=old_ticker) != old_ticker
    web_pid = supervise_pid(web)
    _click(wait, "css selector", "#restart-all")
    assert wait_pid(web, not_pid=web_pid) != web_pid
    wait.until(lambda d: _text(d, "#row-web td.pid") == str(supervise_pid(web)))
    shot = str(tmp_path / "pv-http-page.png")
    assert browser.save_screenshot(shot) and os.path.getsize(shot) > 1000
    keep = os.environ.get("PV_TEST_ARTIFACTS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, keep)
