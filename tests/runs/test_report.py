"""The run report: the HTML parses with every section and image in it, the images decode, and the Markdown says the
same."""

import base64
import io
import re
from html.parser import HTMLParser

import pytest
from PIL import Image
from small_runs import small_setup

from cnn_lab.runs.report import SECTIONS
from cnn_lab.session import Session, SessionError, Workspace


class Outline(HTMLParser):
    """The headings, images and table cells of a page."""

    def __init__(self):
        super().__init__()
        self.headings, self.images, self.cells, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self._in = tag

    def handle_data(self, data):
        if self._in == "h2":
            self.headings.append(data)
        elif self._in == "td":
            self.cells.append(data)

    def handle_endtag(self, tag):
        self._in = None


def decoded(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2])))
    image.load()
    return image


def test_a_report_has_every_section_and_its_images_decode(mnist, tmp_path):
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    with pytest.raises(SessionError, match="Train the models first"):
        session.history.write_report(tmp_path)
    list(session.training.train(small_setup(epochs=2)))
    page, markdown = session.history.write_report(tmp_path)
    assert page.suffix == ".html" and markdown.suffix == ".md"

    outline = Outline()
    outline.feed(page.read_text())
    assert outline.headings == list(SECTIONS)
    images = [decoded(src) for src in outline.images]  # embedded, nothing to fetch
    assert len(images) == 4 + 20  # the diagram, two curves and the matrices, then 20 example predictions
    assert all(image.width > 300 for image in images[:4]) and all(image.size == (28, 28) for image in images[4:])
    accuracy = f"{session.pair.contenders['A'].test_accuracy:.2%}"
    assert accuracy in page.read_text() and "adam" in outline.cells and "sgd" in outline.cells

    text = markdown.read_text()
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == list(SECTIONS)
    assert all(decoded(uri).width > 300 for uri in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
    assert accuracy in text
