"""What every browser test shares: Debian's Chromium and the flags it runs with here."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
