"""A real headless browser for the reports people read: Debian's ``chromium`` driven through
Selenium and ``chromedriver`` of the same release (no browser download is needed or made)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

# the binaries' names differ by distribution; an environment variable names another one
_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_DRIVERS = ("chromedriver",)
_INSTALL = "install Debian's chromium and chromium-driver (apt-get install chromium-driver)"


class BrowserUnavailable(HarnessError):
    """No headless Chromium (or no driver for it) on this machine."""


def _find(env: str, names: tuple[str, ...], what: str) -> str:
    named = os.environ.get(env)
    if named:
        if shutil.which(named) is None:
            raise BrowserUnavailable(f"{env}={named} is not an executable {what}; {_INSTALL}")
        return named
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    raise BrowserUnavailable(f"no {what} on PATH ({', '.join(names)}); {_INSTALL}")


def browser_paths() -> tuple[str, str]:
    """The Chromium binary and its chromedriver (``HARNESS_CHROMIUM`` and
    ``HARNESS_CHROMEDRIVER`` name others); ``BrowserUnavailable`` in one line otherwise."""
    return (
        _find("HARNESS_CHROMIUM", _BROWSERS, "Chromium browser"),
        _find("HARNESS_CHROMEDRIVER", _DRIVERS, "chromedriver"),
    )


@contextmanager
def headless_chromium(width: int = 1400, height: int = 1000) -> Iterator[WebDriver]:
    """A headless Chromium that records the page's console (``driver.get_log("browser")``),
    quit on leaving, also when the block raised."""
    binary, driver_path = browser_paths()
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    # no sandbox: CI runs as root, where Chromium refuses its sandbox; /dev/shm is small there
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
    except WebDriverException as exc:
        first = (exc.msg or str(exc)).strip().splitlines()[0] if (exc.msg or str(exc)) else ""
        raise BrowserUnavailable(f"Chromium did not start: {first}; {_INSTALL}") from None
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: WebDriver) -> list[str]:
    """The messages the page logged at error level (uncaught exceptions included)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry["message"] for entry in entries if entry.get("level") == "SEVERE"]
