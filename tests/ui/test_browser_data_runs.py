"""The Data tab's class chart and the Runs tab's table and deleting, in a real headless Chromium (issue 33).

The chart is read as the page draws it (each bar's mark names its class and count), never from what the server sent:
the bug was in the page, which drew the previous dataset's bars beside the new table.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time

import pytest
from conftest import launch_playground
from own_datasets import digits_zip
from small_runs import record

from cnn_lab.core.config import RunConfig
from cnn_lab.runs.history import RunStore

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed: no browser to drive", allow_module_level=True)

from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
FOLDER = "/srv/cnn_lab/datasets"  # where the recorded runs say their data came from
CHART_S = 15  # the page draws the new bars within this after the table shows

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """`python playground.py` offline, with four runs in its history: #1 to #4 (#2 and #4 on 10,000 images)."""
    cache = tmp_path_factory.mktemp("cache")
    store = RunStore(cache / "cnn_lab" / "runs.sqlite")
    for k in range(4):
        setup = dataclasses.replace(record().setup, run=RunConfig(train_subset=10_000 if k % 2 else None))
        store.record(dataclasses.replace(record(), setup=setup, data_source=f"MNIST, 60,000 train, from {FOLDER}"))
    proc, output, _ = launch_playground(cache)
    try:
        assert "Running on local URL:" in output, output
        yield output.split("Running on local URL:")[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def page(app_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(app_url, timeout=60_000)
        expect(page.locator("#sketchpad")).to_be_visible(timeout=60_000)
        yield page
        browser.close()


def open_tab(page: Page, name: str) -> None:
    page.locator("#tabs").get_by_role("tab", name=name, exact=True).click()


def column(table: Locator, index: int) -> list[str]:
    return [text.strip() for text in table.locator(f'[role="gridcell"][data-col="{index}"]').all_inner_texts()]


def choose(page: Page, box: str, *labels: str) -> None:
    """Pick ``labels`` in the dropdown ``box`` (several for a multiselect one), then close its list."""
    for label in labels:
        page.locator(f"{box} input").click()
        page.locator(box).get_by_role("option", name=label, exact=True).click()
    page.keyboard.press("Escape")
    page.locator("#page-title").click()  # away from the box: the next choice opens its list again


def drawn_bars(page: Page) -> list[tuple[str, int]]:
    """The chart's bars as drawn: each one's class and count (its SVG mark's label), in their order on the x axis."""
    labels = page.locator("#data-chart g.mark-rect path").evaluate_all(
        "paths => paths.map(p => [p.getBoundingClientRect().left, p.getAttribute('aria-label')])"
    )
    found = [re.fullmatch(r"class: (.*); training images: (\d+)", label or "") for _, label in sorted(labels)]
    return [(m.group(1), int(m.group(2))) if m else ("?", -1) for m in found]


def check_chart_matches_table(page: Page, dataset: str, classes: int) -> None:
    """The table shows ``classes`` rows of ``dataset``; the chart draws exactly those rows, says so, and its bars'
    heights follow the counts."""
    table = page.locator("#data-counts")
    expect(table.locator('[role="gridcell"][data-col="0"]')).to_have_count(classes)
    rows = list(zip(column(table, 0), (int(n.replace(",", "")) for n in column(table, 1)), strict=True))
    deadline = time.monotonic() + CHART_S
    while drawn_bars(page) != rows and time.monotonic() < deadline:
        time.sleep(0.2)
    assert drawn_bars(page) == rows, (dataset, drawn_bars(page), rows)
    expect(page.locator("#data-chart")).to_contain_text(f"Training images per class: {dataset}")
    heights = page.locator("#data-chart g.mark-rect path").evaluate_all(
        "paths => paths.map(p => [p.getBoundingClientRect().left, p.getBoundingClientRect().height])"
    )
    tallest = max(count for _, count in rows)
    for (_, height), (_, count) in zip(sorted(heights), rows, strict=True):
        assert abs(height / max(h for _, h in heights) - count / tallest) < 0.02, (heights, rows)


def test_the_class_chart_always_draws_the_chosen_datasets_table(page, mnist, tmp_path):
    open_tab(page, "Data")
    check_chart_matches_table(page, "MNIST", 10)
    archive = digits_zip(tmp_path / "three digits.zip", mnist, per_class=90)
    page.locator("#data-upload input[type=file]").set_input_files(str(archive))
    expect(page.locator("#data-about")).to_contain_text("three digits", timeout=30_000)
    check_chart_matches_table(page, "three digits", 3)
    for dataset, choice, classes in (("MNIST", "MNIST", 10), ("three digits", "Your data (Data tab)", 3)):
        choose(page, "#data-choice", choice)
        expect(page.locator("#data-about")).to_contain_text(dataset, timeout=30_000)
        check_chart_matches_table(page, dataset, classes)


def test_the_runs_table_shows_no_folder_and_deleting_asks_first_for_its_own_choice(page):
    open_tab(page, "Runs")
    table = page.locator("#runs-table")
    expect(table.get_by_test_id("cell-0-0")).to_have_text("#4")
    assert column(table, 0) == ["#4", "#3", "#2", "#1"] and FOLDER not in table.inner_text()
    choose(page, "#runs-pick", "#4", "#3")  # to overlay: not a choice to delete
    expect(page.locator("#runs-drawn")).to_contain_text("#3 A")
    choose(page, "#runs-delete-pick", "#2", "#1")
    page.locator("#runs-delete").click()
    expect(page.locator("#runs-delete-question")).to_have_text("Delete runs #1 and #2? This cannot be undone.")
    page.locator("#runs-delete-cancel").click()
    expect(page.locator("#runs-delete-ask")).to_be_hidden()
    assert column(table, 0) == ["#4", "#3", "#2", "#1"]  # asking, then cancelling, deleted nothing
    page.locator("#runs-delete").click()
    page.locator("#runs-delete-confirm").click()
    expect(table.locator('[role="gridcell"][data-col="0"]')).to_have_count(2)
    assert column(table, 0) == ["#4", "#3"]
    expect(page.locator("#runs-drawn")).to_contain_text("#4 A")  # the overlay kept its runs
    expect(page.locator("#runs-delete-ask")).to_be_hidden()

    choose(page, "#runs-first", "#4")
    choose(page, "#runs-second", "#3")
    page.locator("#runs-compare").click()
    diff = page.locator("#runs-diff")
    expect(diff).to_contain_text("Training images")
    assert column(diff, 1) == ["10,000"] and column(diff, 2) == ["all"]
