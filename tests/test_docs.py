"""Every example in the docs runs, the site builds, and README's links lead somewhere.

Fenced code blocks in README.md and docs/ are taken by their language:

- ``python``: run, each page's blocks in order in one namespace, in a folder of the test's own that holds the files
  the examples read (``my_digit.png``, ``photo.jpg``, ``my_shapes.zip``, ``other_writers.npz``). The address they use,
  ``http://localhost:7860/``, becomes that of a playground this module launches (as tests/ui/test_app.py's ``url``
  fixture does).
- ``json title="NAME"``: written to NAME in that folder, for the blocks after it (a setup file, a grid file).
- ``shell``: run by bash in that folder, and must exit 0 (``cnn-lab train``, ``cnn-lab sweep``, torchrun, all on
  small setups).
- ``console`` (install commands, synopses of flags, commands that need a second machine, a GPU or a server left
  running), ``text`` (what something prints or looks like), ``json`` without a title, ``yaml``: shown, not run.

The examples run as on a fresh install, on the MNIST sample that ships with the package (``CNN_LAB_DATA`` is set
aside for this module: full MNIST would only make them slower).

A block of any other language, or with none, fails ``test_every_code_block_is_run_or_marked_as_shown``: a new example
cannot go unrun by mistake. The examples are small (1,000 training images, one epoch), so the whole module takes
about a minute (two on a busy 2-core machine).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from drawn_digits import render_digit
from own_datasets import digits_zip
from PIL import Image
from real_drawings import real_drawing_set

from cnn_lab.data.datasets import DATA_DIR_ENV, load_dataset
from cnn_lab.ui import build_app, quiet_queue

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
DOCS_URL = "http://localhost:7860/"
RUN = {"python", "shell"}
SHOWN = {"console", "text", "json", "yaml"}
FENCE = re.compile(r"^```(\S*)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@dataclass
class Block:
    page: Path
    line: int
    language: str
    title: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        title = re.search(r'title="([^"]+)"', match.group(2))
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, match.group(1), title.group(1) if title else "", match.group(3)))
    return found


def runnable(page: Path) -> bool:
    return any(b.language in RUN for b in blocks(page))


@pytest.fixture(scope="module", autouse=True)
def shipped_sample():
    """The examples' data: the shipped MNIST sample, as a fresh install without a data folder has."""
    saved = os.environ.pop(DATA_DIR_ENV, None)
    yield
    if saved is not None:
        os.environ[DATA_DIR_ENV] = saved


@pytest.fixture(scope="module")
def url():
    """A playground in this process, as `cnn-lab serve` builds it."""
    demo = build_app()
    demo.queue(default_concurrency_limit=16)
    quiet_queue(demo)
    _, local_url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield local_url
    demo.close()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The folder the examples run in, with the files they read: a drawn 7, a photo of one, three classes of digits,
    and other people's digits in MNIST's classes."""
    Image.fromarray(render_digit(7)).save(tmp_path / "my_digit.png")
    Image.fromarray(render_digit(3, offset=(0.1, 0.05))).convert("RGB").save(tmp_path / "photo.jpg")
    assert zipfile.is_zipfile(digits_zip(tmp_path / "my_shapes.zip", load_dataset("mnist"), per_class=20))
    drawn = real_drawing_set()  # digits by other people, named 0-9 as MNIST's classes are
    small = np.stack([np.asarray(Image.fromarray(255 - c).resize((28, 28), Image.BILINEAR)) for c in drawn["images"]])
    np.savez(
        tmp_path / "other_writers.npz", x=small, y=drawn["labels"], class_names=np.array([str(d) for d in range(10)])
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_code_block_is_run_or_marked_as_shown():
    unknown = [f"{b.where} ```{b.language}" for page in PAGES for b in blocks(page) if b.language not in RUN | SHOWN]
    assert not unknown, f"give these blocks a language the docs test runs ({RUN}) or shows ({SHOWN}): {unknown}"
    assert any(runnable(page) for page in PAGES)


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_of_a_page_run(page: Path, folder: Path, request):
    namespace: dict = {"__name__": "__docs__"}
    environ = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for block in blocks(page):
        if block.language == "json" and block.title:
            (folder / block.title).write_text(block.code)
        elif block.language == "python":
            code = block.code
            if DOCS_URL in code:
                code = code.replace(DOCS_URL, request.getfixturevalue("url"))
            exec(compile(code, block.where, "exec"), namespace)  # noqa: S102 - the docs' own examples
        elif block.language == "shell":
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block.code],
                cwd=folder,
                env=environ,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, (
                f"{block.where} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed (requirements-dev.txt)")
def test_the_site_builds_without_a_warning(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr[-4000:]
    assert (tmp_path / "site" / "reference" / "session" / "index.html").read_text().count("doc-function") > 10


def test_every_relative_link_in_readme_leads_to_a_file():
    links = LINK.findall((ROOT / "README.md").read_text())
    local = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")]
    assert local, "README links into the docs"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README.md links to files that are not there: {missing}"
