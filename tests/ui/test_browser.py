"""The playground used the way a person uses it: `python playground.py` in a real headless Chromium.

Trains both models from the Train & compare tab, watches the live progress and loss curves, reads
the results grid, draws a digit with the mouse on the Sketchpad beside the results, stops a longer
run, then visits the Inspect, Runs, Data and Learn tabs. Saves full-page screenshots of every tab
(light and dark theme) to screenshots/ for a human to look at. Any uncaught JavaScript error,
console error or failed request fails the test.

Elements are found by their elem_id (see cnn_lab/ui/*.py), or by their accessible label inside an
elem_id container, never by their position on the page. Every wait has a deadline.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from chance import fewest_right
from drawn_digits import stroke_points
from own_datasets import class_images, digits_zip
from PIL import Image
from real_drawings import real_drawing_set
from sketch_canvas import HOUSE_STROKES

from cnn_lab.core.builder import layers_to_json
from cnn_lab.core.config import ExperimentConfig, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.presets import PRESETS
from cnn_lab.inspect.learned_space import SPACE_IMAGES
from cnn_lab.views.labels import LABELS
from cnn_lab.views.tables import report_frame

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed: no browser to drive", allow_module_level=True)

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
ACTION_TIMEOUT_MS = 30_000  # clicks, fills, locator reads
EXPECT_TIMEOUT_MS = 15_000  # every expect() unless it names its own; a busy 2-core machine can lag seconds
LOAD_TIMEOUT_MS = 60_000  # the first page load compiles the frontend's chunks
RUN_TIMEOUT_S = 120  # the small runs here take 3-20 s on 2 CPU cores; generous but bounded
STOP_TIMEOUT_MS = 10_000  # the run ends after its current batch
PROGRESS_LINE = re.compile(r"Model ([AB]):[^|\n]*\|[^|\n]*\|\s*(\d+)/(\d+)")
TABS = {"train": "Train & compare", "inspect": "Inspect", "runs": "Runs", "data": "Data", "learn": "Learn"}

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def app_url(playground):
    """`python playground.py` on a free port (offline: the shipped 10,000-image MNIST sample)."""
    url, _ = playground()
    return url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


class PageProblems(list):
    """Everything the page complains about: uncaught errors, console errors, failed requests."""

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda err: self.append(f"uncaught JS error: {err}"))
        page.on(
            "console",
            lambda msg: self.append(f"console error: {msg.text} ({msg.location})") if msg.type == "error" else None,
        )
        page.on("requestfailed", self._request_failed)

    def _request_failed(self, request) -> None:
        failure = request.failure or ""
        # Benign and unavoidable: when no events are pending, Gradio's JS client receives a
        # "close_stream" message and aborts its own SSE fetch of /gradio_api/queue/data
        # (AbortController.abort(), see `wt(...)` in gradio's frontend index-*.js); Chromium
        # reports that as a failed request with net::ERR_ABORTED. The same for the upload
        # progress stream: Gradio's upload bar closes its EventSource on /gradio_api/upload_progress
        # when the bar is destroyed, which happens when a small upload finishes before the stream's
        # "done" message arrives (`C(()=>{...u.close()})` in src-*.js). Every other failure counts.
        aborted_by_gradio = ("/gradio_api/queue/data", "/gradio_api/upload_progress")
        if failure == "net::ERR_ABORTED" and any(route in request.url for route in aborted_by_gradio):
            return
        self.append(f"request failed: {request.method} {request.url}: {failure}")


@pytest.fixture
def open_page(browser, app_url):
    """A fresh page (own context, so its own Gradio session) with problem tracking."""
    contexts = []

    def open_(query: str = "", at: str | None = None, **context_options) -> tuple[Page, PageProblems]:
        context = browser.new_context(**{"viewport": VIEWPORT} | context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
        problems = PageProblems()
        problems.watch(page)
        page.goto((at or app_url) + query)
        expect(page.locator("#sketchpad")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        expect(status(page)).to_contain_text("Ready.")
        return page, problems

    yield open_
    for context in contexts:
        context.close()


# ------------------------------------------------------------------ page helpers


def status(page: Page) -> Locator:
    """The status line above the Train Models button."""
    return page.locator('#status [data-testid="markdown"]')


def model(page: Page, name: str) -> Locator:
    """Model A's or B's column of settings."""
    return page.locator(f"#model-{name}")


def setting(page: Page, name: str, label: str) -> Locator:
    """One of model A's or B's inputs, by its label."""
    return model(page, name).get_by_label(label, exact=True)


def run_setting(page: Page, label: str) -> Locator:
    return page.locator("#run-settings").get_by_label(label, exact=True)


def open_accordion(container: Locator) -> None:
    """Open a closed gr.Accordion (a click on an open one would close it)."""
    content = container.locator(':scope > [data-testid="accordion-content"]')
    if not content.is_visible():
        container.locator(":scope > button.label-wrap").click()
    expect(content).to_be_visible()


def open_tab(page: Page, tab: str) -> Locator:
    """Click a tab's button; returns its panel once shown."""
    page.locator("#tabs").get_by_role("tab", name=TABS[tab], exact=True).click()
    expect(page.locator(f"#tab-{tab}-button")).to_have_attribute("aria-selected", "true")
    panel = page.locator(f"#tab-{tab}")
    expect(panel).to_be_visible()
    return panel


def progress_text(page: Page) -> str:
    return page.locator("#progress textarea").input_value()


def progress_counts(text: str) -> dict[str, tuple[int, int]]:
    """{"A": (step, total_steps), "B": ...} from the tqdm lines in the Progress box."""
    return {name: (int(step), int(total)) for name, step, total in PROGRESS_LINE.findall(text)}


def line_points(plot: Locator) -> list[int]:
    """Number of vertices in each drawn line of a Vega line chart (SVG renderer)."""
    return plot.locator("g.mark-line path").evaluate_all(
        "ps => ps.map(p => (p.getAttribute('d') || '').split(/[ML]/).length - 1)"
    )


def legend_labels(plot: Locator) -> list[str]:
    return plot.locator("g.role-legend-label text").all_text_contents()


def configure(page: Page, *, train_images: int, channels_a: str, channels_b: str, epochs_a: int, epochs_b: int) -> None:
    open_accordion(page.locator("#run-settings"))
    run_setting(page, "Training images (0 = all)").fill(str(train_images))
    page.locator("#channels-A textarea").fill(channels_a)
    page.locator("#channels-B textarea").fill(channels_b)
    setting(page, "A", "Epochs").fill(str(epochs_a))
    setting(page, "B", "Epochs").fill(str(epochs_b))


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # let bars and charts finish their transitions
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=ACTION_TIMEOUT_MS)


# Samples, inside the page every 0.1 s, what a person sees change: the Progress text and how many
# points each line of the loss chart has (Vega draws it as SVG). Polling from Python instead would
# miss updates on a busy 2-core machine; the server sends one at most every 0.4 s.
WATCH_JS = """
(progress) => {
  const seen = window.__cnnSeen = [];
  clearInterval(window.__cnnTimer);
  window.__cnnTimer = setInterval(() => {
    const lines = [...document.querySelectorAll('#loss-plot g.mark-line path')]
      .map(p => (p.getAttribute('d') || '').split(/[ML]/).length - 1);
    const last = seen[seen.length - 1];
    if (!last || last.progress !== progress.value || last.lines.join() !== lines.join()) seen.push({progress: progress.value, lines});
  }, 100);
}
"""
STOP_WATCHING_JS = "() => { clearInterval(window.__cnnTimer); return window.__cnnSeen; }"


def train_and_watch(page: Page, expected_steps: int, screenshot_name: str | None = None, min_updates: int = 3) -> None:
    """Click Train Models, watch progress and both loss curves move, until the run finishes."""
    page.locator("#progress textarea").evaluate(WATCH_JS)
    page.locator("#train").click()
    deadline = time.time() + RUN_TIMEOUT_S
    while screenshot_name is not None and time.time() < deadline:  # a screenshot about a third of the way in
        steps = [step for step, total in progress_counts(progress_text(page)).values() if total == expected_steps]
        if len(steps) == 2 and min(steps) >= expected_steps // 3:
            page.screenshot(path=str(SCREENSHOTS / f"{screenshot_name}.png"), full_page=True)
            # the accuracy chart draws its curves while they climb (it once kept the run's first, empty data)
            expect(page.locator("#accuracy-plot g.mark-line path").first).to_be_visible(timeout=2_000)
            break
        if status(page).inner_text().strip().startswith("Finished"):
            break
        page.wait_for_timeout(100)
    expect(status(page)).to_contain_text(
        re.compile(r"^\s*Finished · MNIST"), timeout=max(1_000, (deadline - time.time()) * 1000)
    )
    seen = page.evaluate(STOP_WATCHING_JS)
    print(f"\n{len(seen)} page states seen during the run")

    # the progress box moved for both models while training, and ended at the last step
    counts = [
        c
        for c in (progress_counts(s["progress"]) for s in seen)
        if set(c) == {"A", "B"} and all(t == expected_steps for _, t in c.values())
    ]
    counts = [c for i, c in enumerate(counts) if i == 0 or c != counts[i - 1]]
    assert len(counts) >= min_updates, [s["progress"] for s in seen]
    for name in "AB":
        steps = [c[name][0] for c in counts]
        assert steps == sorted(steps) and steps[0] < steps[-1], (name, steps)
    final = progress_counts(progress_text(page))
    assert final == {"A": (expected_steps, expected_steps), "B": (expected_steps, expected_steps)}, final

    # both loss curves grew while training: two drawn lines whose point counts went up
    lines = [s["lines"] for s in seen if len(s["lines"]) == 2]
    assert len(lines) >= 2 and all(b > a for a, b in zip(lines[0], lines[-1])), lines
    plot = page.locator("#loss-plot")
    assert all(n > 10 for n in line_points(plot)), line_points(plot)
    assert legend_labels(plot) == ["A", "B"]
    assert page.locator("#accuracy-plot g.mark-line path").count() >= 1  # the test accuracy curve is drawn too


def check_results(page: Page, channels_a: str, channels_b: str) -> None:
    """The side-by-side table shows the configured models, and the grid shows 20 test images with guess badges."""
    summary = page.locator("#summary")
    params = summary.get_by_role("row").filter(has_text=re.compile(r"^\s*parameters")).inner_text()
    for channels in (channels_a, channels_b):
        count = ModelConfig.from_conv_channels([int(c) for c in channels.split(",")]).param_count
        assert f"{count:,}" in params, (channels, count, params)  # the channel boxes were used
    results = page.locator("#results")
    cards = results.locator(".cnn-card")
    expect(cards).to_have_count(20)
    right, wrong = results.locator(".cnn-card .cnn-right").count(), results.locator(".cnn-card .cnn-wrong").count()
    right_a = results.locator(".cnn-card .cnn-right", has_text="A:").count()
    assert right + wrong == 40, (right, wrong)  # a badge per model per card
    # A (Adam) learnt, and its badges agree with its test accuracy: the 20 images are a fresh random draw, so A's
    # right answers among them may fall below its rate by chance, but below this bound less than once in 10,000 draws
    accuracy_a = float(summary_row(page, "test accuracy")["A"].rstrip("%")) / 100
    assert accuracy_a > 0.6 and right_a >= fewest_right(20, accuracy_a), (accuracy_a, right_a)
    assert results.locator(".cnn-card img").count() == 20
    badges = [text.strip() for text in results.locator(".cnn-guess").all_inner_texts()]
    assert all(re.fullmatch(r"[AB]: \d \d+%", text) for text in badges), badges
    colours = {
        verdict: set(
            results.locator(f".cnn-{verdict}").evaluate_all("es => es.map(e => getComputedStyle(e).backgroundColor)")
        )
        for verdict in ("right", "wrong")
    }
    assert colours["right"] == {"rgb(21, 128, 61)"} and colours["wrong"] <= {"rgb(185, 28, 28)"}, colours  # green, red


def draw_digit(page: Page, digit: int) -> None:
    """Draw the digit with the mouse onto the visible white drawing area."""
    draw_strokes(page, stroke_points(digit, canvas=280))


def draw_strokes(page: Page, strokes: list[list[tuple[int, int]]]) -> None:
    """Draw strokes given in the 280x280 image's pixels with the mouse onto the visible white drawing area: the page
    has picked the brush (Gradio's pad ignores strokes until a tool is picked, and a person just draws)."""
    pad = page.locator("#sketchpad")
    pad.scroll_into_view_if_needed()
    expect(pad.get_by_role("button", name="Brush", exact=True)).to_have_class(re.compile(r"\bhighlight\b"))
    expect(pad).not_to_contain_text("select the draw tool")
    canvases = pad.locator("canvas")
    expect(canvases.filter(visible=True)).not_to_have_count(0)
    # The editor's canvases (its stage and its crop layer) lie on one another and cover the same box
    boxes = canvases.evaluate_all(
        "cs => cs.map(c => c.getBoundingClientRect()).filter(r => r.width > 0).map(r => [r.x, r.y, r.width, r.height])"
    )
    assert all(max(abs(a - b) for a, b in zip(box, boxes[0])) < 1 for box in boxes), boxes
    box, pad_box = dict(zip(("x", "y", "width", "height"), boxes[0])), pad.bounding_box()
    # That box is the whole editor stage; the 280x280 image sits in its centre, shown at
    # the zoom the toolbar reports ("103%"). If the stage is wider than the pad, the image's right
    # part is cut off by the pad's edge (Gradio sized the canvas while the row was still being laid
    # out): that is a bug.
    zoom_text = pad.locator(".zoom-number").inner_text().strip().rstrip("%")
    side = 280 * float(zoom_text) / 100 if zoom_text.isdigit() else 0.8 * min(box["width"], box["height"])
    image_left, image_top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    visible_right = min(image_left + side, pad_box["x"] + pad_box["width"] - 2)
    visible_bottom = min(image_top + side, pad_box["y"] + pad_box["height"] - 2)
    assert box["width"] <= pad_box["width"] + 2, (
        f"the drawing stage ({box['width']:.0f} px) is clipped by the pad ({pad_box['width']:.0f} px)"
    )
    draw_side = min(visible_right - image_left, visible_bottom - image_top)
    assert draw_side > 150, f"only {draw_side:.0f} px of the drawing area is visible"
    left = image_left + (visible_right - image_left - draw_side) / 2
    top = image_top + (visible_bottom - image_top - draw_side) / 2
    for stroke in strokes:
        points = [(left + x * draw_side / 280, top + y * draw_side / 280) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=2)  # software WebGL is slow: few moves per stroke
        page.mouse.up()


# How wide an <img> is drawn on screen: its box, or less where object-fit keeps a small image at its own size.
SHOWN_WIDTH_JS = """img => {
  const box = img.getBoundingClientRect(), fit = getComputedStyle(img).objectFit;
  const scale = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight);
  return img.naturalWidth * (fit === 'none' ? 1 : fit === 'scale-down' ? Math.min(1, scale) : fit === 'fill' ? box.width / img.naturalWidth : scale);
}"""


def check_predictions(page: Page) -> dict[str, str]:
    """Both gr.Label outputs show a top class and ten confidence bars; the 28x28 preview shows."""
    guesses = {}
    for name in "AB":
        label = page.locator(f"#label-{name}")
        heading = label.get_by_test_id("label-output-value")
        expect(heading).to_have_text(re.compile(r"^\d$"), timeout=30_000)
        expect(label.locator('[data-testid$="-confidence-set"]')).to_have_count(10)
        guesses[name] = heading.inner_text().strip()
    preview = page.locator("#sketch-preview img")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 28
    assert preview.evaluate(SHOWN_WIDTH_JS) >= 56, preview.evaluate(SHOWN_WIDTH_JS)  # large enough to see its pixels
    expect(page.locator("#sketch-note")).to_contain_text("What each model sees and how sure it is.")
    return guesses


def check_sketch_column(page: Page) -> None:
    """The sketchpad and both confidence bars sit in a column beside the results, none squashed."""
    results, pad = page.locator("#results").bounding_box(), page.locator("#sketchpad").bounding_box()
    assert pad["x"] >= results["x"] + results["width"] - 2, (results, pad)  # beside, not below
    for name in "AB":
        label = page.locator(f"#label-{name}").bounding_box()
        assert label["x"] >= results["x"] + results["width"] - 2 and label["width"] >= 118, (name, label)


def log_shows_newest_line(page: Page, name: str) -> bool:
    """The log lists the newest line first and the box is scrolled to its top, so the final line is in view."""
    box = page.locator(f"#log-{name} textarea")
    return box.evaluate("t => t.scrollTop") == 0 and "finished after" in box.input_value().splitlines()[0]


def settled(image: Locator, quiet_ms: int = 1_000) -> None:
    """Wait until a figure's image shows and keeps the same picture for ``quiet_ms`` (a tab that opens draws its
    figures again: one captured mid-swap is detached from the page)."""
    expect(image).to_be_visible()
    deadline, last, since = time.time() + EXPECT_TIMEOUT_MS / 1000, None, time.time()
    while time.time() < deadline:
        src = image.get_attribute("src")
        if src != last:
            last, since = src, time.time()
        elif (time.time() - since) * 1000 >= quiet_ms:
            return
        image.page.wait_for_timeout(100)
    raise AssertionError("the figure kept changing")


def settled_screenshot(image: Locator, path: Path, tries: int = 5) -> None:
    """A screenshot of a figure once it has settled; taken again when the page swapped the image for a new one while
    it was being taken (on a slow machine a tab's late redraw can land after the figure looked settled)."""
    for attempt in range(tries):
        settled(image)
        try:
            image.screenshot(path=str(path))
            return
        except PlaywrightError as err:
            if "not attached" not in str(err) or attempt == tries - 1:
                raise


def luminance(css_colour: str) -> float:
    """0 (black) to 1 (white), from a computed "rgb(r, g, b)" colour."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two computed colours (1 to 21; 4.5 is enough for body text)."""

    def relative(css_colour: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", css_colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((relative(foreground), relative(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def assert_no_error_toasts(page: Page) -> None:
    toasts = page.get_by_test_id("toast-body")
    assert toasts.count() == 0, toasts.all_inner_texts()


def table_column(table: Locator, column: int) -> list[str]:
    """The body cells of one column of a gr.Dataframe."""
    return [text.strip() for text in table.locator(f'[role="gridcell"][data-col="{column}"]').all_inner_texts()]


def check_test_set_scores(page: Page) -> None:
    """Score both models on the test set, click the cell of the most confused pair and see exactly its images."""
    page.locator("#inspect-score").click()
    summary = page.locator("#inspect-summary")
    expect(summary).to_contain_text("Most confused", timeout=60_000)
    first = re.search(r"([AB]) reads (\d) as (\d) on (\d+) test image", summary.inner_text())
    assert first, summary.inner_text()
    model, truth, guess, count = first.group(1), first.group(2), first.group(3), int(first.group(4))
    cell = page.locator(f"#matrix-{model} [data-testid=cell-{truth}-{int(guess) + 1}]")
    expect(cell).to_have_text(re.compile(rf"^\s*{count}\s*$"))
    cell.click()
    gallery = page.locator("#cell-gallery")
    expect(gallery).to_contain_text(f"Model {model} reads {truth} as {guess}: {count} test images")
    expect(gallery.locator("img")).to_have_count(min(count, 40))
    expect(page.locator("#disagreement-gallery")).to_contain_text("A right, B wrong")
    expect(page.locator("#calibration-note")).to_contain_text(re.compile(r"calibration error: A [\d.]+ %, B [\d.]+ %"))
    expect(page.locator("#reliability img")).to_be_visible()


def check_explanation(page: Page) -> None:
    """Explain the drawn 7: what both models read, where each looked, its filters and feature maps; another method
    redraws it; the replay slider takes everything back to the end of epoch 1 of 2."""
    page.locator("#explain").click()
    summary = page.locator("#explain-summary")
    expect(summary).to_contain_text(re.compile(r"Model A reads \d \(\d+% sure\), model B reads \d"))
    for name in "AB":
        overlay = page.locator(f"#explain-{name} img")
        expect(overlay).to_be_visible()
        assert overlay.evaluate("img => img.naturalWidth") == 168  # the 28x28 input drawn 6x
        maps = page.locator(f"#feature-maps-{name} img")
        expect(maps).to_be_visible()
        assert maps.evaluate("img => img.complete && img.naturalHeight") > 300
    page.locator("#explain-method").get_by_label("occlusion").check()
    expect(summary).to_contain_text("occlusion: bright where blanking out")
    range_input = page.locator("#replay-epoch input[type=range]")
    expect(range_input).to_be_enabled()
    range_input.click()  # at its middle: 0 .. 2, so epoch 1
    expect(page.locator("#inspect-summary")).to_contain_text("at the end of epoch 1, on")
    expect(page.locator("#replay-epoch input[type=number]")).to_have_value("1")


def check_runs(page: Page) -> None:
    """The two newest runs (the stopped one first): their four curves overlaid, and the epochs that differ."""
    open_tab(page, "runs")
    table = page.locator("#runs-table")
    expect(table.get_by_test_id("cell-0-2")).to_have_text("stopped")
    newest, before = table.get_by_test_id("cell-0-0").inner_text(), table.get_by_test_id("cell-1-0").inner_text()
    for label in (newest, before):
        page.locator("#runs-pick input").click()
        page.locator("#runs-pick").get_by_role("option", name=label, exact=True).click()
    page.keyboard.press("Escape")
    drawn = page.locator("#runs-drawn")
    for name in "AB":  # the finished run's curves; the stopped one has a point only for a model scored at the stop,
        # and a stopped model is scored again only where that is quick on this machine (STOP_SCORING_S)
        expect(drawn).to_contain_text(re.compile(rf"{before} {name} \(\d+ points?\)"))
    expect(page.locator("#runs-curves img")).to_be_visible()
    for box, label in (("#runs-first", newest), ("#runs-second", before)):
        page.locator(f"{box} input").click()
        page.locator(box).get_by_role("option", name=label, exact=True).click()
        page.keyboard.press("Escape")
    page.locator("#runs-compare").click()
    diff = page.locator("#runs-diff")
    expect(diff).to_contain_text("Model A · Epochs")
    expect(diff).to_contain_text("Model B · Epochs")
    assert "Model A · Learning rate" not in diff.inner_text()  # what both share is left out

    page.locator("#report").click()
    links = page.locator("#report-files a")
    expect(links).to_have_count(2, timeout=60_000)
    html_link = next(link for link in links.all() if ".html" in (link.get_attribute("href") or ""))
    with page.expect_download() as download:
        html_link.click()
    report = Path(download.value.path()).read_text()
    for section in ("The run", "Hyperparameters", "Confusion matrices", "Example predictions", "Environment"):
        assert f"<h2>{section}</h2>" in report, section


def visit_other_tabs(page: Page, theme: str, channels: dict[str, str]) -> None:
    """Inspect, Runs, Data and Learn each show what they are for; a full-page screenshot of each, then back to Train."""
    inspect = open_tab(page, "inspect")
    diagram = inspect.locator("#network-diagram img")
    settled(diagram)
    assert diagram.evaluate("img => img.complete && img.naturalWidth") > 300
    for name in "AB":
        table = page.locator(f"#layer-table-{name}")
        expect(table.get_by_test_id("cell-0-1")).to_have_text(re.compile(r"^\s*conv 3x3"))
        # every layer, following the Train tab's channel boxes (the classifier head is not a row of its own)
        layers = ModelConfig.from_conv_channels([int(c) for c in channels[name].split(",")]).layers
        expected = report_frame(layers_to_json(layers))["params"].tolist()
        deadline = time.time() + EXPECT_TIMEOUT_MS / 1000  # drawn when the tab opens
        while table_column(table, 3) != expected and time.time() < deadline:
            page.wait_for_timeout(200)
        assert table_column(table, 3) == expected, (name, table_column(table, 3), expected)
    check_test_set_scores(page)
    check_explanation(page)
    page.locator("#gradient-show").click()
    expect(page.locator("#gradient-words")).to_contain_text("recorded on every 25th training step (3 for A, 3 for B)")
    expect(page.locator("#gradient-chart img")).to_be_visible()
    page.locator("#measure-costs").click()
    expect(page.locator("#cost-note")).to_contain_text("the slowest layer is", timeout=60_000)
    expect(page.locator("#cost-summary")).to_contain_text("accuracy (%) per MFLOP")
    expect(page.locator("#cost-layers")).to_contain_text("backward ms")
    expect(page.locator("#cost-chart img")).to_be_visible()
    screenshot(page, f"{theme}-inspect")

    open_tab(page, "runs")
    expect(page.locator("#runs-about")).to_contain_text(re.compile(r"\d+ runs? kept in .*runs\.sqlite"))
    expect(page.locator("#runs-table [data-testid=cell-0-0]")).to_have_text(re.compile(r"#\d+"))
    screenshot(page, f"{theme}-runs")

    open_tab(page, "data")
    expect(page.locator("#data-about")).to_contain_text(
        re.compile(r"10,000 train / [\d,]+ test.*Images of 28x28 pixels, grey, in 10 classes")
    )
    counts = page.locator("#data-counts")
    expect(counts.locator('[role="gridcell"][data-col="0"]')).to_have_count(10)
    training = [int(n.replace(",", "")) for n in table_column(counts, 1)]
    assert sum(training) == 10_000 and min(training) > 0, training
    examples = page.locator("#data-examples .cnn-card img")
    expect(examples).to_have_count(60)
    tops = examples.evaluate_all("imgs => imgs.map(i => Math.round(i.getBoundingClientRect().top))")
    assert len(set(tops[:6])) == 1 and tops[6] > tops[5], tops  # six examples of a class, one class a row
    assert examples.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth === 28)")
    screenshot(page, f"{theme}-data")

    open_tab(page, "learn")
    glossary = page.locator("#settings-glossary")
    expect(glossary.locator('[role="gridcell"][data-col="0"]')).to_have_count(len(LABELS))
    last, frame = glossary.get_by_test_id(f"cell-{len(LABELS) - 1}-0").bounding_box(), glossary.bounding_box()
    assert last["y"] + last["height"] <= frame["y"] + frame["height"] + 1, (last, frame)  # no row hidden below a fold
    assert "Learning rate" in table_column(glossary, 0), table_column(glossary, 0)
    screenshot(page, f"{theme}-learn")

    open_tab(page, "train")
    expect(page.locator("#sketchpad")).to_be_visible()


# ------------------------------------------------------------------ tests


def test_a_person_trains_compares_draws_visits_every_tab_stops_and_turns_dark(open_page):
    started = time.time()
    page, problems = open_page()
    channels = {"A": "8, 8, 16, 16", "B": "4, 8, 8, 8"}

    # 1) a small run: 2 epochs of 2,000 images, narrower nets; 2 x 2,000 / 64 -> 64 steps each
    configure(page, train_images=2000, channels_a=channels["A"], channels_b=channels["B"], epochs_a=2, epochs_b=2)
    train_and_watch(page, expected_steps=64, screenshot_name="light-train-running")
    expect(status(page)).to_contain_text("2,000 train")
    check_results(page, channels["A"], channels["B"])
    for name in "AB":
        assert log_shows_newest_line(page, name), f"Log, model {name} does not show its newest line"
    print(f"first run done after {time.time() - started:.1f} s")

    # 2) draw a 7 on the pad beside the results: both models answer with confidence bars
    check_sketch_column(page)
    draw_digit(page, 7)
    guesses = check_predictions(page)
    print(f"drawn 7 read as: {guesses}")
    screenshot(page, "light-train")

    # 3) the other tabs, after the run
    visit_other_tabs(page, "light", channels)
    print(f"tabs visited after {time.time() - started:.1f} s")

    # 4) a long run (20 epochs of A on 2,000 images: 640 steps), stopped part way (5 epochs, 160 steps, once ran out
    # before the Stop click landed, 9.4 s on a quiet machine)
    configure(page, train_images=2000, channels_a=channels["A"], channels_b=channels["B"], epochs_a=20, epochs_b=1)
    page.locator("#train").click()
    deadline = time.time() + 60
    counts = {}
    while time.time() < deadline:
        counts = progress_counts(progress_text(page))
        if counts.get("A", (0, 0))[1] == 20 * 32 and counts["A"][0] >= 5:
            break
        page.wait_for_timeout(200)
    assert counts.get("A", (0, 0))[1] == 640 and counts["A"][0] >= 5, counts
    expect(status(page)).to_contain_text(re.compile(r"^\s*Training · MNIST sample, 2,000 train"))
    page.locator("#stop").click()
    clicked = time.time()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Stopped · "), timeout=STOP_TIMEOUT_MS)
    print(f"status said Stopped {time.time() - clicked:.1f} s after the Stop click")
    # The Stop button's answer and the run's own last update are two events: the progress lines may show the
    # steps done before the stop a moment after the status says Stopped. Once they settle, nothing moves.
    stopped_at, settled_since = progress_counts(progress_text(page)), time.time()
    while time.time() - settled_since < 1.0 and time.time() - clicked < STOP_TIMEOUT_MS / 1000:
        page.wait_for_timeout(200)
        now = progress_counts(progress_text(page))
        if now != stopped_at:
            stopped_at, settled_since = now, time.time()
    assert 5 <= stopped_at["A"][0] < 640, stopped_at
    page.wait_for_timeout(1500)
    assert progress_counts(progress_text(page)) == stopped_at  # nothing trains on
    expect(status(page)).to_contain_text("Stopped")  # and no late "Stopping..." overwrote the final status
    expect(page.locator("#results .cnn-card")).to_have_count(20)  # the stopped models still show their predictions

    # 5) both runs are in the history: overlay their curves, and see only what differs between their setups
    check_runs(page)
    screenshot(page, "light-runs")
    open_tab(page, "train")

    # 6) the same session in the dark theme (one walk: the light one computed every tab's contents once)
    look_again_in_the_dark(page)

    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)
    print(f"light-theme session took {time.time() - started:.1f} s")


def test_the_dark_theme_link_opens_the_page_dark(open_page):
    page, problems = open_page("/?__theme=dark")
    assert page.evaluate("document.body.classList.contains('dark')"), "?__theme=dark did not switch the theme"
    background = page.locator("gradio-app").evaluate("e => getComputedStyle(e).backgroundColor")
    text = status(page).evaluate("e => getComputedStyle(e).color")
    print(f"\ndark page: background {background}, status text {text}")
    assert luminance(background) < 0.2 and luminance(text) > 0.8, (background, text)
    expect(page.locator("#theme-switch").get_by_label("☾ Dark")).to_be_checked()  # the switch says what is shown
    assert problems == [], "\n".join(problems)


def look_again_in_the_dark(page: Page) -> None:
    """The person switches to the dark theme after the stopped run: every tab's words stay readable (WCAG contrast
    of at least 4.5; a full-page screenshot of each), and a digit drawn on the dark pad is read by both models."""
    page.locator("#theme-switch").get_by_label("☾ Dark").check()
    page.wait_for_function("document.body.classList.contains('dark')")
    background = page.locator("gradio-app").evaluate("e => getComputedStyle(e).backgroundColor")
    assert luminance(background) < 0.2, background

    def readable(words: Locator) -> None:
        """Its colour once the theme's colour transition has run (sampled mid-way it is still half-way there)."""
        deadline, colour = time.time() + 5, ""
        while time.time() < deadline:
            colour = words.evaluate("e => getComputedStyle(e).color")
            if contrast(colour, background) >= 4.5:
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"{colour} on {background}: contrast {contrast(colour, background):.2f}, under 4.5")

    readable(status(page))  # the stopped run's status
    for tab, words in (("inspect", "#cost-note"), ("runs", "#runs-about"), ("data", "#data-about")):
        open_tab(page, tab)
        readable(page.locator(words))  # the light walk's words, readable on dark
        screenshot(page, f"dark-{tab}")
    open_tab(page, "learn")
    screenshot(page, "dark-learn")
    open_tab(page, "train")
    check_sketch_column(page)
    draw_digit(page, 7)
    print(f"drawn 7 read in the dark as: {check_predictions(page)}")
    screenshot(page, "dark-train")


def test_builder_marks_an_invalid_layer_and_a_share_link_restores_the_setup(open_page):
    page, problems = open_page()
    open_accordion(model(page, "A").locator(".gr-accordion", has_text="Layer builder, model A"))
    first_layer = page.locator("#layer-A-1")
    kernel = first_layer.get_by_label("kernel", exact=True)  # layer 1: conv 3x3
    kernel.fill("40")
    kernel.press("Enter")
    sentence = "⚠ layer 1 (conv): kernel must be from 1 to 11, got 40"
    expect(first_layer.locator(".block.cnn-problem")).to_have_text(sentence)  # under the layer's own row
    expect(page.locator("#builder-table-A").get_by_test_id("cell-0-5")).to_have_text(sentence)  # and in its table
    expect(setting(page, "A", "Architecture")).to_have_value("Builder: your own layer list")

    page.locator("#train").click()  # refused with the same sentence, nothing starts
    expect(page.get_by_test_id("toast-body")).to_contain_text(
        "Model A · layer 1 (conv): kernel must be from 1 to 11, got 40"
    )
    expect(status(page)).to_contain_text("Ready.")

    kernel.fill("5")
    kernel.press("Enter")
    expect(model(page, "A").locator(".block.cnn-problem")).to_have_count(0)
    setting(page, "A", "Learning rate").fill("0.0123")
    open_accordion(page.locator("#share-setup"))
    page.locator("#share").click()
    link = page.locator("#share-link textarea")
    expect(link).to_have_value(re.compile(r"\?setup=[\w-]+$"))
    assert page.url == link.input_value()  # the address bar holds the link too

    restored, restored_problems = open_page("/" + link.input_value().split("/")[-1])
    expect(restored.locator("#share-note")).to_contain_text("Setup restored from the shared link.")
    expect(setting(restored, "A", "Architecture")).to_have_value("Builder: your own layer list")
    expect(setting(restored, "A", "Learning rate")).to_have_value("0.0123")
    open_accordion(model(restored, "A").locator(".gr-accordion", has_text="Layer builder, model A"))
    expect(restored.locator("#layer-A-1").get_by_label("kernel", exact=True)).to_have_value("5")

    # the same setup through a JSON file: LeNet-5 for B, imported with the upload button
    setup = ExperimentConfig(
        ModelSpec(), ModelSpec(PRESETS["lenet5"].spec.model, TrainConfig("rmsprop", 0.002, 32, 2)), RunConfig(seed=7)
    )
    path = ROOT / ".pytest_cache" / "imported_setup.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(setup.to_json())
    open_accordion(restored.locator("#share-setup"))
    restored.locator("#share-setup input[type=file]").set_input_files(str(path))
    expect(restored.locator("#share-note")).to_contain_text("Setup imported.")
    expect(setting(restored, "B", "Learning rate")).to_have_value("0.002")
    expect(setting(restored, "B", "Optimizer")).to_have_value("RMSprop")
    open_accordion(restored.locator("#run-settings"))
    expect(run_setting(restored, "Seed")).to_have_value("7")
    open_accordion(model(restored, "B").locator(".gr-accordion", has_text="Layer builder, model B"))
    expect(restored.locator("#builder-table-B").get_by_test_id("cell-10-1")).to_have_text("tanh")  # LeNet-5's 11th

    broken, broken_problems = open_page("/?setup=this-is-not-a-setup")
    expect(broken.locator("#share-note")).to_contain_text(re.compile("The shared link could not be read .*damaged"))
    expect(setting(broken, "A", "Learning rate")).to_have_value("0.001")  # the defaults
    expect(setting(broken, "B", "Learning rate")).to_have_value("0.01")
    assert problems == restored_problems == broken_problems == [], problems + restored_problems + broken_problems


def test_advanced_training_shows_the_settings_that_matter_with_previews(open_page):
    page, problems = open_page()
    # the defaults: A learns with Adam 0.001, B with SGD 0.01
    expect(setting(page, "A", "Optimizer")).to_have_value("Adam")
    expect(setting(page, "B", "Optimizer")).to_have_value("SGD")
    expect(setting(page, "B", "Learning rate")).to_have_value("0.01")

    a = model(page, "A")
    open_accordion(a.locator(".gr-accordion", has_text="Advanced training, model A"))
    expect(setting(page, "A", "Patience (epochs)")).to_have_count(0)  # early stopping is off
    pick(page, "A", "Early stopping", "on validation loss")
    expect(setting(page, "A", "Patience (epochs)")).to_have_value("2")

    expect(setting(page, "A", "Adam beta1")).to_be_visible()
    pick(page, "A", "Optimizer", "SGD")  # a person's pick fills in SGD's usual values
    expect(setting(page, "A", "Learning rate")).to_have_value("0.01")
    expect(setting(page, "A", "Momentum")).to_have_value("0.9")
    expect(setting(page, "A", "Nesterov")).to_be_visible()
    expect(setting(page, "A", "Adam beta1")).to_have_count(0)  # SGD has no betas

    pick(page, "A", "Learning-rate schedule", "step")
    expect(setting(page, "A", "Decay factor gamma")).to_be_visible()
    preview = a.locator("svg.marks").filter(has_text="Schedule preview, model A")
    expect(preview.locator("g.mark-line path")).to_have_count(1)

    setting(page, "A", "random erasing").check()
    gallery = a.locator(".cnn-augment")
    expect(gallery.locator("img")).to_have_count(8)
    label = gallery.get_by_test_id("block-label").bounding_box()
    tops = gallery.locator("img").evaluate_all("imgs => imgs.map(i => i.getBoundingClientRect().top)")
    assert label["y"] + label["height"] <= min(tops) + 1, (label, tops)  # the gallery's label covers no image
    screenshot(page, "light-advanced-training")

    page.locator("#train").click()  # early stopping without validation images: refused by name
    expect(page.get_by_test_id("toast-body")).to_contain_text("model A: early_stopping needs a validation split")
    assert problems == [], "\n".join(problems)


def pick(page: Page, name: str, label: str, option: str) -> None:
    """Choose an option of a model's dropdown the way a person does."""
    setting(page, name, label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_person_uploads_a_dataset_previews_it_trains_on_it_and_sees_its_class_names(open_page, mnist, tmp_path):
    page, problems = open_page()
    panel = open_tab(page, "data")
    expect(page.locator("#data-about")).to_contain_text("MNIST sample")  # what a person sees first
    archive = digits_zip(tmp_path / "three digits.zip", mnist, per_class=150)
    panel.locator("#data-upload input[type=file]").set_input_files(str(archive))
    about = page.locator("#data-about")
    expect(about).to_contain_text("three digits, 375 train / 75 test, uploaded", timeout=30_000)
    expect(about).to_contain_text("Images of 28x28 pixels, grey, in 3 classes")
    expect(page.locator("#data-choice input")).to_have_value("Your data (Data tab)")
    expect(page.locator("#data-counts").locator('[role="gridcell"][data-col="0"]')).to_have_count(3)
    assert table_column(page.locator("#data-counts"), 0) == ["one", "seven", "zero"]
    captions = page.locator("#data-examples .cnn-truth")
    expect(captions).to_have_count(18)
    assert set(captions.all_inner_texts()) == {"one", "seven", "zero"}
    bars = page.locator("#data-chart g.mark-rect path")
    expect(bars).to_have_count(3)  # one bar a class, as tall as its count
    heights = bars.evaluate_all("ps => ps.map(p => p.getBoundingClientRect().height)")
    assert min(heights) > 50 and max(heights) - min(heights) < 2, heights
    expect(page.locator("#data-presets")).to_contain_text("fits:")
    for gallery in ("plain", "seen-A", "seen-B"):  # the same 8 images, as they are and through each model's eyes
        expect(page.locator(f"#data-{gallery} img")).to_have_count(8)
    screenshot(page, "light-data-upload")

    open_tab(page, "train")
    open_accordion(page.locator("#run-settings"))
    expect(page.locator("#dataset input")).to_have_value("Your data (Data tab)")
    configure(page, train_images=0, channels_a="8, 8, 16, 16", channels_b="4, 8, 8, 8", epochs_a=3, epochs_b=3)
    for name in "AB":
        setting(page, name, "Batch size").fill("25")
    page.locator("#train").click()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Finished · three digits"), timeout=RUN_TIMEOUT_S * 1000)
    cards = page.locator("#results .cnn-truth")
    expect(cards).to_have_count(20)
    assert set(cards.all_inner_texts()) <= {"true: one", "true: seven", "true: zero"}, cards.all_inner_texts()

    seven = class_images(mnist, {"seven": 7}, 1, offset=700)["seven"][0]
    photo = tmp_path / "my seven.png"
    Image.fromarray(255 - seven.repeat(6, 0).repeat(6, 1)).save(photo)  # dark on white, as on paper
    page.locator("#own-image input[type=file]").set_input_files(str(photo))
    for name in "AB":
        label = page.locator(f"#label-{name}")
        expect(label.get_by_test_id("label-output-value")).to_have_text(
            re.compile(r"^(one|seven|zero)$"), timeout=30_000
        )
        expect(label.locator('[data-testid$="-confidence-set"]')).to_have_count(3)
    expect(page.locator("#label-A").get_by_test_id("label-output-value")).to_have_text("seven")
    screenshot(page, "light-train-own-data")
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)


REAL_QUICKDRAW = os.path.join(os.environ.get("CNN_LAB_DATA", ""), "quickdraw7.npz")


@pytest.mark.skipif(not os.path.isfile(REAL_QUICKDRAW), reason="needs quickdraw7.npz in the CNN_LAB_DATA folder")
def test_a_person_picks_quick_draw_trains_the_default_pair_and_both_read_a_house_drawn_with_the_mouse(
    playground, open_page
):
    """The playground started on a data folder (``--data-dir``), Quick, Draw! picked in the run settings, the page's
    default pair trained as it stands, and a house drawn with the mouse: the pad asks for the seven classes, and
    both models answer by name with seven bars (a drawing framed like Google's bitmaps: measured 0.97-1.0 sure of
    "house" over seeds 0-2)."""
    url, _ = playground("--data-dir", os.path.dirname(REAL_QUICKDRAW))
    page, problems = open_page(at=url)
    open_accordion(page.locator("#run-settings"))
    page.locator("#dataset input").click()
    page.get_by_role("option", name="Quick, Draw! (7 sketches)", exact=True).click()
    names = ("cat", "dog", "horse", "house", "house plant", "rainbow", "train")
    expect(page.locator("#sketchpad")).to_contain_text("Draw one of the 7 classes (cat, dog, horse, ...)")
    page.locator("#train").click()
    expect(status(page)).to_contain_text(
        re.compile(r"^\s*Finished · Quick, Draw! \(7 sketches\), 7,488 train"), timeout=RUN_TIMEOUT_S * 1000
    )
    cards = page.locator("#results .cnn-truth")
    expect(cards).to_have_count(20)
    assert {text.removeprefix("true: ") for text in cards.all_inner_texts()} <= set(names)
    draw_strokes(page, HOUSE_STROKES)
    for name in "AB":
        label = page.locator(f"#label-{name}")
        expect(label.get_by_test_id("label-output-value")).to_have_text("house", timeout=30_000)
        expect(label.locator('[data-testid$="-confidence-set"]')).to_have_count(7)
    preview = page.locator("#sketch-preview img")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 28
    screenshot(page, "light-train-quickdraw")
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)


def test_inspect_reads_a_teachers_upload_and_opens_each_whole_model_view_in_light_and_dark(open_page, tmp_path):
    """After a short run on MNIST and a drawing: a teacher's upload of other writers' digits read in *Reading another
    dataset* (a row per digit, both models there beside their own test set, the shift in words); then the five
    whole-model views: both maps (a dot per image, the drawing's star, a hovered dot showing its image), the
    robustness charts, the attack's three images, the weights' chart and both models' filters, the loss along the
    line; then the same page in the dark theme."""
    page, problems = open_page()
    configure(page, train_images=2000, channels_a="8, 16, 16, 32", channels_b="8, 8, 16, 16", epochs_a=2, epochs_b=2)
    page.locator("#train").click()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Finished · MNIST"), timeout=RUN_TIMEOUT_S * 1000)
    draw_digit(page, 3)
    check_predictions(page)
    drawn = real_drawing_set()
    x = np.stack([np.asarray(Image.fromarray(255 - c).resize((28, 28), Image.BILINEAR)) for c in drawn["images"]])
    np.savez(tmp_path / "our class.npz", x=x, y=drawn["labels"], class_names=np.array([str(d) for d in range(10)]))
    panel = open_tab(page, "data")
    panel.locator("#data-upload input[type=file]").set_input_files(str(tmp_path / "our class.npz"))
    expect(page.locator("#data-about")).to_contain_text("our class", timeout=30_000)
    open_tab(page, "inspect")
    page.locator("#cross-dataset input").click()
    page.get_by_role("option", name="Your data (Data tab)", exact=True).click()
    page.locator("#cross-read").click()
    note = page.locator("#cross-note")
    expect(note).to_contain_text("Trained on MNIST, read on our class", timeout=30_000)
    expect(note).to_contain_text("domain shift")
    table = page.locator("#cross-table")
    expect(table.locator('[role="gridcell"][data-col="0"]')).to_have_count(10)
    assert table_column(table, 0) == [str(d) for d in range(10)]
    own = [float(v.rstrip("%")) for v in table_column(table, 3)]  # A on its own test set
    other = [float(v.rstrip("%")) for v in table_column(table, 2)]  # A on the teacher's digits
    assert sum(other) < sum(own) and all(0 <= v <= 100 for v in own + other), (own, other)

    page.locator("#space-go").click()
    expect(page.locator("#space-note")).to_contain_text("PCA of the features", timeout=30_000)
    for name in "AB":
        svg = page.locator(f"#space-map-{name} svg")
        expect(svg.locator("g.pt")).to_have_count(SPACE_IMAGES)
        expect(svg.locator("polygon")).to_have_count(1)  # the drawing's star
        dot = svg.locator("g.pt").last  # drawn last, so on top of any dot it overlaps
        assert dot.locator(".tip").evaluate("e => getComputedStyle(e).display") == "none"
        dot.locator("circle").hover(force=True)
        expect(dot.locator(".tip")).to_have_css("display", "inline")
        tip = dot.locator(".tip").evaluate("e => e.textContent")
        assert tip.startswith("true ") and "A: " in tip and "B: " in tip, tip
    page.locator("#robust-go").click()
    expect(page.locator("#robust-note")).to_contain_text("accuracy at a middle strength", timeout=30_000)
    expect(page.locator("#robust-chart img, #robust-chart svg").first).to_be_visible()
    page.locator("#attack-go").click()
    expect(page.locator("#attack-note")).to_contain_text("makes it read", timeout=60_000)
    for image in ("attack-drawing", "attack-changed-A", "attack-changed-B"):
        expect(page.locator(f"#{image} img")).to_be_visible()
    page.locator("#weights-go").click()
    expect(page.locator("#weights-note")).to_contain_text("epochs 0, 1, 2 (0: as created)", timeout=30_000)
    for name in "AB":
        expect(page.locator(f"#weights-filters-{name} img")).to_be_visible()
    page.locator("#line-go").click()
    expect(page.locator("#line-note")).to_contain_text("went", timeout=30_000)
    expect(page.locator("#line-chart img, #line-chart svg").first).to_be_visible()
    screenshot(page, "light-inspect-whole-model")
    page.locator("#theme-switch").get_by_label("☾ Dark").check()
    page.wait_for_function("document.body.classList.contains('dark')")
    note = page.locator("#robust-note")
    assert luminance(note.evaluate("e => getComputedStyle(e).color")) > 0.6  # the words stay readable on dark
    screenshot(page, "dark-inspect-whole-model")
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)


def test_start_here_sets_up_a_first_comparison_trains_it_and_ticks_its_steps(open_page, mnist, tmp_path):
    page, problems = open_page()
    open_tab(page, "learn")
    steps = page.locator("#walkthrough")
    expect(steps).to_contain_text("→ Set up a first comparison")
    page.locator("#start-set-up").click()
    expect(page.locator("#tab-train-button")).to_have_attribute("aria-selected", "true")  # the page turned
    open_accordion(page.locator("#run-settings"))
    expect(run_setting(page, "Training images (0 = all)")).to_have_value("20000")
    expect(page.locator("#share-note")).to_contain_text("Start here, step 2")
    page.locator("#train").click()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Finished"), timeout=RUN_TIMEOUT_S * 1000)
    expect(page.locator("#coach")).to_contain_text("Coach:")
    open_tab(page, "learn")
    expect(steps).to_contain_text("✓ Train both and watch")
    expect(steps).to_contain_text(re.compile(r"Model [AB] reached \d+\.\d+%, model [AB] \d+\.\d+%"))
    expect(steps).to_contain_text("→ Draw a digit")
    screenshot(page, "light-learn-start-here")

    open_tab(page, "inspect")  # the trained network, to explore: hovering a block tells what its layer does
    network = page.locator("#network-svg-A")
    expect(network.locator("svg.cnn-net")).to_have_attribute("aria-label", "Model A (trained)")
    info = network.locator(".cnn-layer").nth(1).locator(".cnn-info")
    expect(info.first).to_be_hidden()
    network.locator("rect.cnn-block").nth(1).hover()
    expect(info.first).to_be_visible()
    expect(info.first).to_contain_text("conv1 (Conv2d): slides its kernels")
    expect(info.nth(1)).to_contain_text(re.compile(r"output 8x28x28, 80 parameters"))

    open_tab(page, "train")  # a real test digit as an image of one's own, then a block clicked: its maps for it
    digit = tmp_path / "digit.png"
    Image.fromarray(255 - mnist.test_images[3].numpy().repeat(8, 0).repeat(8, 1)).save(digit)
    page.locator("#own-image input[type=file]").set_input_files(str(digit))
    expect(page.locator("#label-A").get_by_test_id("label-output-value")).to_have_text(re.compile(r"^\d$"))
    open_tab(page, "inspect")
    expect(network.locator("svg.cnn-net")).to_have_attribute("aria-label", "Model A (trained), lit by your drawing")
    network.locator("rect.cnn-block").nth(3).click()  # input, conv1, relu1, conv2
    expect(page.locator("#network-maps img")).to_have_count(1)
    expect(page.get_by_text("Model A, conv2: its 16 feature maps for your drawing.")).to_be_visible()
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------ a page people enjoy (issue 20)


def drag(page: Page, source: Locator, target: Locator, where: str = "top") -> None:
    """Drag ``source`` with the mouse onto the top edge, middle or bottom edge of ``target`` (a native HTML drag:
    Chromium starts it once the pressed mouse moves)."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 6, y + 6, steps=3)
    end = target.bounding_box()
    offset = {"top": 4, "middle": end["height"] / 2, "bottom": end["height"] - 4}[where]
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + offset, steps=8)
    page.mouse.up()


def layer_titles(page: Page, name: str) -> list[str]:
    return [t.strip() for t in page.locator(f'[id^="layer-{name}-"] .cnn-handle + b').all_inner_texts()]


def test_layers_are_dragged_into_the_builder_and_reordered_and_a_bad_drop_is_marked(open_page):
    page, problems = open_page(viewport={"width": 1400, "height": 2400})  # the list and its palette in view at once
    open_accordion(model(page, "A").locator(".gr-accordion", has_text="Layer builder, model A"))
    default = ["conv", "activation", "conv", "activation", "pool", "conv", "activation", "conv", "activation", "pool"]
    expect(page.locator('[id^="layer-A-"] .cnn-handle')).to_have_count(len(default))
    assert layer_titles(page, "A") == [f"{n}. {kind}" for n, kind in enumerate(default, start=1)]
    table = page.locator("#builder-table-A")  # drawn by the server from the layer list the setup trains

    # a batch norm from the palette onto the top half of layer 2: it becomes layer 2
    drag(page, page.locator("#palette-A .cnn-chip", has_text="batchnorm"), page.locator("#layer-A-2"), "top")
    expect(table.get_by_test_id("cell-1-1")).to_have_text("batch norm")
    expect(setting(page, "A", "Architecture")).to_have_value("Builder: your own layer list")
    # layer 1 (the first conv) by its handle onto the bottom half of layer 3: it moves below it
    drag(page, page.locator("#layer-A-1 .cnn-handle"), page.locator("#layer-A-3"), "bottom")
    expect(table.get_by_test_id("cell-2-1")).to_have_text("conv 3x3, 8 channels")
    expected = ["batchnorm", "activation", "conv", "conv", "activation", "pool", "conv", "activation", "conv"]
    assert layer_titles(page, "A")[:9] == [f"{n}. {kind}" for n, kind in enumerate(expected, start=1)]
    expect(model(page, "A").locator(".block.cnn-problem")).to_have_count(0)

    # a flatten, then a conv, dropped at the end: a conv cannot read a flat vector, marked on its own row
    drag(page, page.locator("#palette-A .cnn-chip", has_text="flatten"), page.locator("#drop-end-A"), "middle")
    expect(page.locator("#layer-A-12")).to_contain_text("12. flatten")
    drag(page, page.locator("#palette-A .cnn-chip", has_text="conv"), page.locator("#drop-end-A"), "middle")
    problem = page.locator("#layer-A-13 .block.cnn-problem")
    expect(problem).to_contain_text("needs feature maps but comes after a flatten")
    expect(page.locator("#layer-A-13")).to_contain_text("13. conv ⚠")
    expect(model(page, "A").locator(".block.cnn-problem")).to_have_count(1)
    screenshot(page, "builder-drag-drop")

    # the keyboard's way stays: ↑ on the broken conv puts it above the flatten, and the mark goes
    page.locator("#layer-A-13").get_by_role("button", name="↑").click()
    expect(model(page, "A").locator(".block.cnn-problem")).to_have_count(0)
    expect(page.locator("#layer-A-13")).to_contain_text("13. flatten")
    # a chip from the keyboard (Tab to it, Enter) adds its layer at the end; so does a click or a tap
    page.locator("#palette-A .cnn-chip", has_text="dropout").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#layer-A-14")).to_contain_text("14. dropout")
    expect(table.get_by_test_id("cell-13-1")).to_contain_text("dropout")
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)


def loss_axis_titles(page: Page) -> list[str]:
    return page.locator("#loss-plot svg .role-axis-title text").all_text_contents()  # SVG text has no innerText


def test_live_charts_change_axis_and_smoothing_download_and_follow_the_dark_theme(open_page, tmp_path):
    page, problems = open_page()
    page.locator("#theme-switch").get_by_label("☾ Dark").check()
    # the switch's script runs after its input event: a frame later, or a moment on a busy machine
    page.wait_for_function("document.body.classList.contains('dark')", timeout=EXPECT_TIMEOUT_MS)

    configure(page, train_images=2000, channels_a="8, 8, 16, 16", channels_b="4, 8, 8, 8", epochs_a=3, epochs_b=3)
    page.locator("#train").click()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Training"), timeout=RUN_TIMEOUT_S * 1000)
    expect(page.locator("#loss-plot g.mark-line path").first).to_be_visible(timeout=RUN_TIMEOUT_S * 1000)
    assert "images seen" in loss_axis_titles(page)
    page.locator("#chart-x-axis").get_by_label("epochs", exact=True).check()  # while it trains
    expect(page.locator("#loss-plot svg .role-axis-title text", has_text="epochs")).to_have_count(1)
    smooth = page.locator("#chart-smoothing input[type=number]")
    smooth.fill("0")
    smooth.press("Enter")
    expect(page.locator("#loss-plot")).to_contain_text("Training loss (not smoothed)")
    expect(status(page)).to_contain_text("Finished", timeout=RUN_TIMEOUT_S * 1000)
    ticks = page.locator("#loss-plot svg .role-axis-label text").all_text_contents()
    assert "3.0" in ticks or "3" in ticks, ticks  # 3 epochs along the bottom, not 6,000 images
    raw = page.locator("#loss-plot g.mark-line path").first.get_attribute("d")
    smooth.fill("0.95")
    smooth.press("Enter")
    expect(page.locator("#loss-plot")).to_contain_text("Training loss (smoothed 0.95)")
    expect(page.locator("#loss-plot g.mark-line path").first).not_to_have_attribute("d", raw)
    heights = "d => d.split('L').map(p => p.split(',')[1]).join(' ')"  # the line's y pixels: x shifts with the axes
    line_heights = f"({heights})(document.querySelector('#loss-plot g.mark-line path').getAttribute('d'))"
    drawn: dict[str, str] = {}
    for value, title in [("0", "not smoothed"), ("0.95", "smoothed 0.95")] * 2:
        # back and forth: each time the line drawn is the one for that smoothing (a chart given new titles and
        # data in one update kept its old line in 7 of 16 such switches, before the data-only redraw after it)
        smooth.fill(value)
        smooth.press("Enter")
        expect(page.locator("#loss-plot")).to_contain_text(f"Training loss ({title})")
        if value not in drawn:  # the first time: the line once it has settled
            page.wait_for_timeout(1500)
            drawn[value] = page.evaluate(line_heights)
        page.wait_for_function(f"wanted => {line_heights} === wanted", arg=drawn[value], timeout=EXPECT_TIMEOUT_MS)
    assert drawn["0"] != drawn["0.95"]
    page.locator("#chart-curves").get_by_label("B loss", exact=True).uncheck()
    drawn_lines = "[...document.querySelectorAll('#loss-plot g.mark-line path')].filter(p => /L/.test(p.getAttribute('d') || '')).length"
    page.wait_for_function(f"{drawn_lines} === 1", timeout=EXPECT_TIMEOUT_MS)  # B's line gone, its legend kept
    screenshot(page, "dark-charts")

    # the data as CSV, the chart as PNG
    open_accordion(page.locator("#chart-data"))
    page.locator("#chart-csv").click()
    link = page.locator("#chart-file a").first
    expect(link).to_be_visible()
    csv_text = page.request.get(link.get_attribute("href")).text()
    assert csv_text.splitlines()[0] == "chart,curve,images,steps,epochs,seconds,value,smoothed", csv_text[:200]
    assert sum(line.startswith("loss,A,") for line in csv_text.splitlines()) > 10
    with page.expect_download() as download:
        page.locator("#loss-plot").get_by_role("button", name="Export").click()
    png = tmp_path / "chart.png"
    download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Image.open(png).width > 300

    # a figure on the dark page: no white box, its background is the page's; the choice stays after a reload
    inspect = open_tab(page, "inspect")
    diagram = inspect.locator("#network-diagram img")
    shot = tmp_path / "diagram.png"
    settled_screenshot(diagram, shot)  # drawn again for the Train tab's layers when the tab opens
    corner = Image.open(shot).convert("RGB").getpixel((3, 3))
    assert luminance(f"rgb{corner}") < 0.25, corner
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)
    # the same browser opens the page again (a new tab, same storage): as it was left, dark, then light
    for theme, label in (("dark", "☾ Dark"), ("light", "☀ Light")):
        again = page.context.new_page()
        again_problems = PageProblems()
        again_problems.watch(again)
        again.goto(page.url)
        expect(again.locator("#sketchpad")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        expect(again.locator("#theme-switch").get_by_label(label)).to_be_checked()
        again.wait_for_function(
            f"document.body.classList.contains('dark') === {str(theme == 'dark').lower()}", timeout=EXPECT_TIMEOUT_MS
        )
        assert again_problems == [], "\n".join(again_problems)
        if theme == "dark":
            again.locator("#theme-switch").get_by_label("☀ Light").check()


def touch_digit(page: Page, digit: int) -> None:
    """Draw the digit with touch events (a finger, not a mouse): the page has picked the brush."""
    pad = page.locator("#sketchpad")
    pad.scroll_into_view_if_needed()
    expect(pad.get_by_role("button", name="Brush", exact=True)).to_have_class(re.compile(r"\bhighlight\b"))
    stage = pad.locator("canvas").first.bounding_box()
    zoom = pad.locator(".zoom-number").inner_text().strip().rstrip("%")
    side = 280 * float(zoom) / 100 if zoom.isdigit() else 0.8 * min(stage["width"], stage["height"])
    left, top = stage["x"] + (stage["width"] - side) / 2, stage["y"] + (stage["height"] - side) / 2
    touch = page.context.new_cdp_session(page)
    for stroke in stroke_points(digit, canvas=280):
        points = [{"x": left + x * side / 280, "y": top + y * side / 280} for x, y in stroke]
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
        for point in points[1:]:
            touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_the_page_fits_trains_and_reads_a_digit_drawn_with_a_finger(open_page):
    phone = {"width": 390, "height": 844}
    page, problems = open_page(viewport=phone, is_mobile=True, has_touch=True, device_scale_factor=2)
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= phone["width"], "the page is wider than the phone"
    columns = [model(page, name).bounding_box() for name in "AB"]
    assert columns[1]["y"] >= columns[0]["y"] + columns[0]["height"] - 1, columns  # stacked, not side by side
    screenshot(page, "phone-top")

    open_accordion(page.locator("#run-settings"))
    run_setting(page, "Training images (0 = all)").fill("2000")
    page.locator("#train").tap()
    expect(status(page)).to_contain_text("Finished", timeout=RUN_TIMEOUT_S * 1000)
    pad = page.locator("#sketchpad").bounding_box()
    assert pad["x"] >= 0 and pad["x"] + pad["width"] <= phone["width"], pad  # the pad fits the screen
    touch_digit(page, 7)
    guesses = check_predictions(page)
    print(f"a 7 drawn with touch read as: {guesses}")
    assert page.evaluate(width) <= phone["width"]
    page.locator("#sketchpad").scroll_into_view_if_needed()
    screenshot(page, "phone-train")

    open_tab(page, "inspect")
    diagram = page.locator("#network-diagram")
    expect(diagram.locator("img")).to_be_visible()
    shown = diagram.locator("img").bounding_box()
    assert shown["width"] >= 600, shown  # readable: the diagram keeps its size and its box scrolls sideways
    assert diagram.evaluate("e => [e, ...e.querySelectorAll('*')].some(c => c.scrollWidth > c.clientWidth + 10)")
    assert page.evaluate(width) <= phone["width"], "the diagram pushed the page wider than the phone"
    screenshot(page, "phone-inspect")
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------ a newcomer's first minutes, twice

FIRST_SCREEN = {"width": 1400, "height": 900}
# Every point each accuracy curve draws, as Vega drew it: its hover layer holds one mark per data point, labelled
# "<x title>: <x>; accuracy %: <y>; curve: <curve>" (the page draws the test and validation ones as dots).
ACCURACY_POINTS_JS = """plot => [...plot.querySelectorAll('.hover_marks path')].map(p => {
  const label = p.getAttribute('aria-label') || '';
  const style = getComputedStyle(p);
  return {curve: (label.match(/curve: (.*)$/) || [])[1], y: parseFloat((label.match(/accuracy %: ([-\\d.e]+)/) || [])[1]),
          shown: style.opacity === '1' && p.getBoundingClientRect().width > 0};
})"""
CONTRAST_JS = """element => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  let node = element, background = [0, 0, 0, 0];
  while (node && node.nodeType === 1) {
    const [r, g, b, a = 1] = rgb(getComputedStyle(node).backgroundColor);
    if (a > 0.5) { background = [r, g, b]; break; }
    node = node.parentNode;
  }
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(rgb(getComputedStyle(element).fill)), lum(background)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def accuracy_points(page: Page) -> list[dict]:
    return page.locator("#accuracy-plot").evaluate(ACCURACY_POINTS_JS)


def summary_row(page: Page, row: str) -> dict[str, str]:
    """One row of the results table ("test accuracy", "learning", ...), by model."""
    table = page.locator("#summary")
    labels = table_column(table, 0)
    index = labels.index(row)
    return {name: table_column(table, column)[index] for name, column in (("A", 1), ("B", 2))}


def check_charts_show_every_evaluation(page: Page, evaluations: int) -> None:
    """Each model's test curve draws one visible dot per evaluation (a single one too), and the accuracy axis holds
    every point drawn."""
    points = accuracy_points(page)
    for name in "AB":
        dots = [p for p in points if p["curve"] == f"{name} test"]
        assert len(dots) == evaluations and all(p["shown"] for p in dots), (name, dots)
        assert len([p for p in points if p["curve"] == f"{name} train"]) > 10
    axis = page.locator('#accuracy-plot g.role-axis[aria-label^="Y-axis"]').get_attribute("aria-label")
    bottom = float(re.search(r"values from ([-\d.,]+) to", axis).group(1).replace(",", ""))
    lowest = min(p["y"] for p in points if p["y"] == p["y"])
    assert bottom <= lowest, (axis, lowest)  # nothing drawn below the axis


def check_inspect_describes_the_latest_run(page: Page) -> None:
    """Inspect hides what it showed of an earlier pair, names the latest run, and its scores are that run's."""
    run_accuracy = summary_row(page, "test accuracy")
    inspect = open_tab(page, "inspect")
    expect(inspect.locator("#test-results")).to_be_hidden()
    summary = page.locator("#inspect-summary")
    for name in "AB":
        expect(summary).to_contain_text(f"{name} {run_accuracy[name]}")  # the caption: the latest run's numbers
    page.locator("#inspect-score").click()
    expect(summary).to_contain_text("Most confused", timeout=60_000)
    text = summary.inner_text()
    scored = dict(re.findall(r"([AB]) (\d+\.\d\d%)", text.split("test images:")[1]))
    assert scored == run_accuracy, (text, run_accuracy)
    expect(inspect.locator("#test-results")).to_be_visible()


def test_a_newcomer_draws_trains_the_defaults_inspects_changes_b_and_does_it_again(open_page):
    """The first minutes as a newcomer spends them, at 1400x900, twice (a second run is where stale numbers show):
    draw at once, train the defaults, read the drawing, Inspect, change B, train, Inspect, Data, dark theme."""
    from cnn_lab.core.presets import default_experiment

    page, problems = open_page(viewport=FIRST_SCREEN)
    train_button = page.locator("#train").bounding_box()
    assert train_button["y"] + train_button["height"] <= FIRST_SCREEN["height"], train_button  # no scrolling
    expect(page.locator("#start-here")).to_be_in_viewport()
    # the first screen says what Train Models will do, in the numbers Learn's Start here and the Data tab name too
    # (this server has the shipped sample: 10,000 training images, all of which the default run's 20,000 takes)
    plan = "both models on all 10,000 of the MNIST sample's training images, 1 epoch, about "
    expect(status(page)).to_contain_text(
        re.compile(re.escape(f"Train Models trains {plan}") + r"\d+ s on this machine")
    )
    expect(page.locator("#status")).to_be_in_viewport()
    for empty in ("#loss-plot", "#accuracy-plot", "#log-A", "#progress"):  # each empty frame says what will appear
        assert re.search(
            r"a run|Train Models",
            page.locator(empty).inner_text()
            + (
                page.locator(f"{empty} textarea").get_attribute("placeholder")
                if page.locator(f"{empty} textarea").count()
                else ""
            ),
        ), empty
    open_tab(page, "data")
    expect(page.locator("#data-about")).to_contain_text("10,000 train")
    open_tab(page, "learn")
    expect(page.locator("#walkthrough")).to_contain_text(plan)
    open_tab(page, "train")

    # a digit drawn right after load registers (no tool to pick) and is read once the models are trained
    draw_digit(page, 7)
    expect(page.locator("#sketch-note")).to_contain_text("Train the models first")
    page.locator("#train").click()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Finished"), timeout=RUN_TIMEOUT_S * 1000)
    first = check_predictions(page)
    print(f"\nthe 7 drawn before training read as {first}")
    run = default_experiment().run
    check_charts_show_every_evaluation(page, run.evals_per_epoch * default_experiment().a.train.epochs)
    learning = summary_row(page, "learning")
    assert learning == {"A": "yes", "B": "yes"}, learning
    expect(page.locator("#coach")).to_contain_text("both models learnt as expected")  # no remark contradicts them
    rate = page.locator("svg.marks").filter(has_text="Learning rate, model A (live)").text_content()
    assert "1e-3" in rate, rate  # Adam's 0.001 read whole at the axis (Vega's "0.001000" was cut to "1000")
    screenshot(page, "newcomer-first-run")
    check_inspect_describes_the_latest_run(page)
    first_caption = page.locator("#inspect-summary").inner_text().split(":")[0]

    # B changed and trained again on fewer images: every number Inspect shows is the new run's
    open_tab(page, "train")
    setting(page, "B", "Learning rate").fill("0.05")
    open_accordion(page.locator("#run-settings"))
    run_setting(page, "Training images (0 = all)").fill("3000")
    page.locator("#train").click()
    expect(status(page)).to_contain_text(re.compile(r"^\s*Finished · .*3,000 train"), timeout=RUN_TIMEOUT_S * 1000)
    check_charts_show_every_evaluation(page, run.evals_per_epoch)
    check_inspect_describes_the_latest_run(page)
    assert page.locator("#inspect-summary").inner_text().split(":")[0] != first_caption
    screenshot(page, "newcomer-inspect-second-run")

    # dark theme: the charts' text stays readable (WCAG AA: 4.5:1 against what it is drawn on)
    open_tab(page, "train")
    page.locator("#theme-switch").get_by_label("☾ Dark").check()
    page.wait_for_timeout(300)
    for chart in ("#accuracy-plot", "#loss-plot"):
        texts = page.locator(f"{chart} svg.marks text")
        assert texts.count() > 5
        ratios = texts.evaluate_all(f"ts => ts.map({CONTRAST_JS})")
        assert min(ratios) >= 4.5, (chart, ratios)
    screenshot(page, "newcomer-dark")
    page.locator("#theme-switch").get_by_label("☀ Light").check()
    assert_no_error_toasts(page)
    assert problems == [], "\n".join(problems)
