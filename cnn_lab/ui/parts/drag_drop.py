"""Drag and drop in the layer builder: a palette of layer chips and a handle on every layer row, in the browser.

The browser only says what was dropped where, as a short command ("add conv 3", "move 5 1") handed to a hidden
button of the model's column; builder.apply_drop makes the edit on the server, and the rows are drawn again from the
result (the broken layer, if any, marked in place). Dragging needs a mouse; a chip clicked, tapped or pressed with
Enter adds its layer at the end, and the ↑ ↓ ✕ buttons move and remove, from the keyboard or on a touch screen.
"""

from __future__ import annotations

import html

from cnn_lab.core.builder import NEW_LAYER

# Installed once per page load: listeners on the document (the rows come and go with every edit).
INSTALL_JS = """() => {
  if (window.cnnDragDrop) return;
  window.cnnDragDrop = true;
  window.cnnDrop = {};
  let dragged = null;  // {kind} from the palette, or {model, from} from a row's handle
  const rowOf = (el) => el && el.closest ? el.closest('.cnn-layer-row[id^="layer-"]') : null;
  const endOf = (el) => el && el.closest ? el.closest('.cnn-drop-end') : null;
  const where = (e) => {
    const row = rowOf(e.target);
    if (row) {
      const [, model, number] = row.id.split('-');
      const box = row.getBoundingClientRect();
      const below = e.clientY > box.top + box.height / 2;
      return {box: row, model, at: parseInt(number) - 1 + (below ? 1 : 0), below};
    }
    const end = endOf(e.target);
    return end ? {box: end, model: end.dataset.model, at: parseInt(end.dataset.count), below: false} : null;
  };
  const unmark = () => document.querySelectorAll('.cnn-drop-before, .cnn-drop-after')
    .forEach((el) => el.classList.remove('cnn-drop-before', 'cnn-drop-after'));
  document.addEventListener('dragstart', (e) => {
    const chip = e.target.closest && e.target.closest('.cnn-chip');
    const handle = e.target.closest && e.target.closest('.cnn-handle');
    if (chip) dragged = {kind: chip.dataset.kind};
    else if (handle && rowOf(handle)) {
      const [, model, number] = rowOf(handle).id.split('-');
      dragged = {model, from: parseInt(number) - 1};
    } else return;
    e.dataTransfer.setData('text/plain', JSON.stringify(dragged));
    e.dataTransfer.effectAllowed = chip ? 'copy' : 'move';
  });
  document.addEventListener('dragover', (e) => {
    const to = where(e);
    if (!dragged || !to || (dragged.model && dragged.model !== to.model)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = dragged.kind !== undefined ? 'copy' : 'move';  // as effectAllowed, or no drop
    unmark();
    to.box.classList.add(to.below ? 'cnn-drop-after' : 'cnn-drop-before');
  });
  document.addEventListener('drop', (e) => {
    const to = where(e);
    unmark();
    if (!dragged || !to || (dragged.model && dragged.model !== to.model)) return;
    e.preventDefault();
    window.cnnDrop[to.model] = dragged.kind !== undefined
      ? `add ${dragged.kind} ${to.at}`
      : `move ${dragged.from} ${to.at > dragged.from ? to.at - 1 : to.at}`;
    dragged = null;
    document.querySelector(`#drop-${to.model}`).click();
  });
  document.addEventListener('dragend', () => { dragged = null; unmark(); });
  // A chip clicked, tapped or pressed with Enter or Space: that layer at the end (touch screens, keyboards).
  const addAtEnd = (chip) => {
    const model = chip.closest('.cnn-palette').dataset.model;
    const end = document.querySelector(`.cnn-drop-end[data-model="${model}"]`);
    window.cnnDrop[model] = `add ${chip.dataset.kind} ${end ? parseInt(end.dataset.count) : 0}`;
    document.querySelector(`#drop-${model}`).click();
  };
  document.addEventListener('click', (e) => {
    const chip = e.target.closest && e.target.closest('.cnn-chip');
    if (chip) addAtEnd(chip);
  });
  document.addEventListener('keydown', (e) => {
    const chip = e.target.closest && e.target.closest('.cnn-chip');
    if (chip && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); addAtEnd(chip); }
  });
}"""


def read_drop_js(model: str) -> str:
    """The hidden button's js: hand the column's layers and the drop's command to the server."""
    return f"(layers, command) => [layers, (window.cnnDrop || {{}})['{model}'] || '']"


def palette_html(model: str) -> str:
    """The layer kinds as chips: dragged into the list, or clicked (tapped, Enter) to add at its end."""
    chips = "".join(
        f'<span class="cnn-chip" draggable="true" data-kind="{kind}" role="button" tabindex="0" '
        f'title="drag into the layer list, or click to add at its end" aria-label="add a {kind} layer">{kind}</span>'
        for kind in NEW_LAYER
    )
    return (
        f'<div class="cnn-palette" data-model="{model}">'
        f'<span class="cnn-palette-label">Drag a layer into the list (or click one to add it at the end):</span>'
        f"{chips}</div>"
    )


def row_title_html(number: int, kind: str, broken: bool) -> str:
    """A layer row's title with its drag handle."""
    marker = " ⚠" if broken else ""
    return (
        f'<span class="cnn-handle" draggable="true" title="drag to move this layer (or use ↑ ↓)">⠿</span> '
        f"<b>{number}. {html.escape(kind)}</b>{marker}"
    )


def end_zone_html(model: str, count: int) -> str:
    return f'<div class="cnn-drop-end" data-model="{model}" data-count="{count}">drop here to add at the end</div>'


CSS = """
.cnn-palette { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.cnn-palette-label { color: var(--body-text-color-subdued); font-size: 13px; margin-right: 4px; }
.cnn-chip { cursor: grab; user-select: none; padding: 2px 10px; border-radius: 999px; font-size: 13px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.cnn-chip:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.cnn-handle { cursor: grab; user-select: none; padding: 0 4px; color: var(--body-text-color-subdued); }
.cnn-drop-end { border: 1px dashed var(--border-color-primary); border-radius: 6px; padding: 6px; text-align: center;
  font-size: 12px; color: var(--body-text-color-subdued); }
.cnn-drop-before { box-shadow: 0 -3px 0 var(--color-accent); }
.cnn-drop-after { box-shadow: 0 3px 0 var(--color-accent); }
"""
