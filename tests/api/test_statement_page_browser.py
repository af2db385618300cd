"""The statement page in a real browser (Debian's Chromium driven by Playwright): the player at
the moment, Chromium's own parse of the captions track, seeking from the transcript, the
passage being spoken, the audio caption line, two-click consent for YouTube, the page without
JavaScript, escaping, and axe.

The archive is ingested through the real pipeline (the Whisper base model) from the test media:
- video: a.mp4 from the local web server; the catalog then points at the served file itself
  (which has a video stream) with media_kind "video", so that the page has a real video
  whatever the ingest keeps;
- audio: long.m4a, kept as audio (keep="audio");
- youtube: c.m4a copied to a local file and ingested with keep="none"; only its extractor and
  page_url are then set to a YouTube watch URL in the catalog (faking only the internet);
- hostile: a title and transcript with markup, seeded in code (no speech says that).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.captions import cues_of
from archive.catalog import Catalog
from archive.config import Settings
from archive.search.engines import open_engine
from ingest.pipeline import Pipeline, Request
from tests.api.browser import CHROMIUM, FLAGS
from tests.api.served import serve
from tests.archive.seed import spoken, store
from tests.conftest import Served

pytestmark = [pytest.mark.slow, pytest.mark.browser]
YOUTUBE = "dQw4w9WgXcQ"
HOSTILE_TITLE = "<script>alert('Titel')</script> Haushalt"
HOSTILE_TEXT = "Sie sagte <img src=x onerror=alert(1)> und <script>alert(2)</script> dazu."


@dataclass
class Site:
    base: str
    settings: Settings
    ids: dict[str, str]
    shots: Path


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, model_dir: Path, whisper_model: Any, server: Served
) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("statement-browser")
    files = tmp_path_factory.mktemp("local-files")
    ids: dict[str, str] = {}
    keeping = {
        keep: Settings(data_dir=data_dir, model=str(model_dir), keep=keep)
        for keep in ("video", "audio", "none")
    }
    settings = keeping["video"]
    settings.prepare()
    with Catalog(settings.catalog_path) as catalog:
        engine = open_engine(settings, catalog)

        def ingest(keep: str, target: str, **metadata: Any) -> str:
            pipeline = Pipeline(keeping[keep], catalog, engine, model=whisper_model)
            return pipeline.ingest(Request(target, **metadata)).statement.id

        ids["video"] = ingest(
            "video", server.url("a.mp4"), title="Maskenpflicht und Markt", municipality="Köln"
        )
        video = server.root / "a.mp4"  # H.264 video with the speech as its audio track
        shutil.copyfile(video, settings.media_dir / f"{ids['video']}-test.mp4")
        catalog.update(ids["video"], media_file=f"{ids['video']}-test.mp4", media_kind="video")
        ids["audio"] = ingest("audio", server.url("long.m4a"), title="Wochenbericht")
        local = files / "rede.m4a"
        shutil.copyfile(server.root / "c.m4a", local)
        ids["youtube"] = ingest("none", str(local), title="Rede auf YouTube")
        kept = catalog.get(ids["youtube"])
        assert kept.media_kind is None and kept.media_file is None, "keep=none keeps nothing"
        catalog.update(
            ids["youtube"],
            extractor="youtube",
            page_url=f"https://www.youtube.com/watch?v={YOUTUBE}",
        )
        hostile = store(
            catalog,
            engine,
            "https://example.org/hostile",
            [spoken(0.0, HOSTILE_TEXT)],
            title=HOSTILE_TITLE,
        )
        ids["hostile"] = hostile.id

    with serve(settings) as base:
        yield Site(base, settings, ids, tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def no_axe_violations(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def expected_cues(site: Site, key: str) -> list[tuple[float, float, str]]:
    """The cues archive/captions.py cuts from the statement's segments (what the track serves)."""
    with Catalog(site.settings.catalog_path, readonly=True) as catalog:
        statement = catalog.get(site.ids[key])
        cues = cues_of(catalog.segments(statement.id), statement.duration)
    return [(round(c.start, 3), round(c.end, 3), "\n".join(c.lines)) for c in cues]


BROWSER_CUES = """() => Array.from(document.getElementById('player').textTracks[0].cues || [])
    .map(c => [Math.round(c.startTime * 1000) / 1000, Math.round(c.endTime * 1000) / 1000,
               c.text])"""


def wait_for_cues(page: Any) -> None:
    page.wait_for_function(
        "() => { const t = document.getElementById('player').textTracks[0];"
        " return t && t.cues && t.cues.length > 0; }"
    )


def test_video_moment_captions_seek_and_follow(site: Site, browser: Any) -> None:
    page = browser.new_page(locale="de-DE")
    url = f"{site.base}/statements/{site.ids['video']}"
    page.goto(f"{url}?t=7")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    assert page.evaluate("() => document.getElementById('player').tagName") == "VIDEO"
    position = page.evaluate("() => document.getElementById('player').currentTime")
    assert 6.5 <= position <= 8.5

    # Chromium's own WebVTT parser gives the cues archive/captions.py makes
    wait_for_cues(page)
    assert page.evaluate("() => document.getElementById('player').textTracks[0].mode") == "showing"
    cues = [tuple(c) for c in page.evaluate(BROWSER_CUES)]
    assert cues == expected_cues(site, "video")
    no_axe_violations(page)
    page.screenshot(path=str(site.shots / "statement-video.png"), full_page=True)

    # a click in the transcript seeks without reloading the page
    page.evaluate("() => { window.notReloaded = true; }")
    passages = page.locator("#transcript p[data-s]")
    assert passages.count() >= 2
    second = passages.nth(1)
    start = float(second.get_attribute("data-s") or "nan")
    second.locator("a.time").click()
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {start}) < 1"
    )
    assert page.evaluate("() => window.notReloaded") is True
    assert page.url.endswith(f"?t={int(start)}")

    # the passage being spoken is marked while it plays (muted: no sound in CI)
    page.evaluate(
        "() => { const p = document.getElementById('player'); p.muted = true;"
        " p.currentTime = 0; return p.play(); }"
    )
    first_start = float(passages.nth(0).get_attribute("data-s") or "nan")
    page.wait_for_function(
        f"() => document.getElementById('player').currentTime > {first_start + 0.3}"
    )
    page.wait_for_function(f"() => document.getElementById('player').currentTime > {start + 0.3}")
    marked = page.locator("#transcript p.current")
    assert marked.count() == 1 and marked.get_attribute("aria-current") == "true"
    now = page.evaluate("() => document.getElementById('player').currentTime")
    starts = [float(s) for s in passages.evaluate_all("ps => ps.map(p => p.dataset.s)")]
    expected = max(n for n, s in enumerate(starts) if s <= now + 0.05)
    assert marked.get_attribute("id") == f"s{expected + 1}"
    page.screenshot(path=str(site.shots / "statement-video-playing.png"), full_page=True)
    page.close()


def test_audio_shows_the_caption_line(site: Site, browser: Any) -> None:
    page = browser.new_page(locale="de-DE")
    page.goto(f"{site.base}/statements/{site.ids['audio']}")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    assert page.evaluate("() => document.getElementById('player').tagName") == "AUDIO"
    wait_for_cues(page)
    assert page.evaluate("() => document.getElementById('player').textTracks[0].mode") == "hidden"
    expected = expected_cues(site, "audio")
    assert [tuple(c) for c in page.evaluate(BROWSER_CUES)] == expected
    line = page.locator("#caption-line")
    assert line.is_visible() and line.inner_text() == ""
    no_axe_violations(page)
    page.evaluate(
        f"() => {{ const p = document.getElementById('player'); p.muted = true;"
        f" p.currentTime = {expected[1][0] + 0.2}; return p.play(); }}"
    )
    page.wait_for_function("() => document.getElementById('caption-line').textContent !== ''")
    shown = line.inner_text()
    assert shown in {text for _, _, text in expected}
    page.screenshot(path=str(site.shots / "statement-audio.png"), full_page=True)
    # the line changes with the speech: a later cue replaces it
    page.wait_for_function(
        "shown => { const t = document.getElementById('caption-line').textContent;"
        " return t !== '' && t !== shown; }",
        arg=shown,
        timeout=15_000,
    )
    assert line.inner_text() in {text for _, _, text in expected}
    page.close()


def test_youtube_loads_only_after_the_click(site: Site, browser: Any) -> None:
    context = browser.new_context(locale="de-DE")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    embed_page = "<!doctype html><title>embed</title><p id=fake>YouTube (abgefangen)</p>"
    context.route(
        "https://www.youtube-nocookie.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=embed_page),
    )
    page = context.new_page()
    page.goto(f"{site.base}/statements/{site.ids['youtube']}?t=2", wait_until="networkidle")
    assert page.locator("#player").count() == 0
    button = page.get_by_role("button", name="Video von YouTube laden")
    assert button.is_visible()
    page.screenshot(path=str(site.shots / "statement-youtube-before.png"), full_page=True)
    outside = [url for url in requests if not url.startswith(site.base + "/")]
    assert requests and outside == []
    assert page.locator("iframe").count() == 0
    button.click()
    frame = page.frame_locator("iframe.embed")
    assert frame.locator("#fake").inner_text() == "YouTube (abgefangen)"
    embeds = [url for url in requests if url.startswith("https://www.youtube-nocookie.com/")]
    assert embeds and embeds[0].startswith(
        f"https://www.youtube-nocookie.com/embed/{YOUTUBE}?start=2"
    )
    assert {url.split("/")[2] for url in requests} == {
        site.base.split("/")[2],
        "www.youtube-nocookie.com",
    }
    page.screenshot(path=str(site.shots / "statement-youtube-after.png"), full_page=True)
    context.close()


def test_without_javascript(site: Site, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    url = f"{site.base}/statements/{site.ids['video']}"
    page.goto(url)
    passages = page.locator("#transcript p[data-s]")
    assert passages.count() >= 2 and "Maskenpflicht" in page.locator("#transcript").inner_text()
    assert page.locator("button.copy").count() == 0  # the time link is the fallback
    second = passages.nth(1)
    start = int(float(second.get_attribute("data-s") or "nan"))
    second.locator("a.time").click()
    page.wait_for_url(f"{url}?t={start}")
    player = page.locator("#player")
    assert player.get_attribute("src") == f"/media/{site.ids['video']}#t={start}"
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    position = page.evaluate("() => document.getElementById('player').currentTime")
    assert abs(position - start) < 1  # the media fragment starts it there
    page.screenshot(path=str(site.shots / "statement-no-js.png"), full_page=True)
    page.goto(f"{site.base}/statements/{site.ids['youtube']}")
    assert page.locator("button.load-video").is_hidden()
    watch = page.get_by_role("link", name="Auf YouTube ansehen")
    assert watch.get_attribute("href") == f"https://www.youtube.com/watch?v={YOUTUBE}&t=0s"
    context.close()


def test_markup_from_the_source_is_text(site: Site, browser: Any) -> None:
    page = browser.new_page(locale="de-DE")
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.goto(f"{site.base}/statements/{site.ids['hostile']}", wait_until="networkidle")
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert HOSTILE_TEXT in page.locator("#transcript").inner_text()
    assert page.locator("main img").count() == 0
    assert page.title().startswith(HOSTILE_TITLE)
    page.screenshot(path=str(site.shots / "statement-hostile.png"), full_page=True)
    assert dialogs == []
    page.close()


def test_copy_link_to_a_moment_by_keyboard(site: Site, browser: Any) -> None:
    context = browser.new_context(locale="de-DE", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    url = f"{site.base}/statements/{site.ids['audio']}"
    page.goto(url)
    second = page.locator("#transcript p[data-s]").nth(1)
    start = int(float(second.get_attribute("data-s") or "nan"))
    second.locator("a.time").focus()
    page.keyboard.press("Tab")  # the passage's copy button follows its time link
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused == "Link zu dieser Stelle kopieren"
    page.keyboard.press("Enter")
    status = page.locator("#copy-status")
    status.wait_for(state="visible")
    assert status.inner_text() == f"Link kopiert: {url}?t={start}"
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{url}?t={start}"
    page.screenshot(path=str(site.shots / "statement-copied.png"), full_page=True)
    context.close()
