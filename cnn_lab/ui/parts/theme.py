"""The light/dark switch: Gradio's own dark theme (the ``dark`` class on the page's body), chosen in the page and
remembered by the browser (localStorage), so the next visit opens as it was left.

All in the browser: the theme is how one person's screen looks, nothing the server needs to know. Figures follow it
because they are drawn on transparent backgrounds with a grey that reads on either (plots.py), and the rest of the
page uses the theme's own colours.
"""

from __future__ import annotations

import gradio as gr

STORAGE_KEY = "cnn_lab_theme"
CHOICES = [("☀ Light", "light"), ("☾ Dark", "dark")]

APPLY_JS = f"""(choice) => {{
  document.body.classList.toggle("dark", choice === "dark");
  try {{ localStorage.setItem("{STORAGE_KEY}", choice); }} catch (e) {{}}
  return choice;
}}"""
# On load: a ?__theme= in the address first (a link that asks for one), then the browser's saved choice, else what
# Gradio chose itself (the system's preference).
RESTORE_JS = f"""() => {{
  const asked = new URLSearchParams(window.location.search).get("__theme");
  let saved = null;
  try {{ saved = localStorage.getItem("{STORAGE_KEY}"); }} catch (e) {{}}
  const choice = ["dark", "light"].includes(asked) ? asked
    : ["dark", "light"].includes(saved) ? saved
    : document.body.classList.contains("dark") ? "dark" : "light";
  document.body.classList.toggle("dark", choice === "dark");
  return choice;
}}"""


def theme_switch() -> gr.Radio:
    """A visible light/dark switch; call ``remember_theme`` with it inside the Blocks."""
    return gr.Radio(
        CHOICES, value="light", show_label=False, container=False, min_width=180, elem_id="theme-switch"
    )  # fmt: skip


def remember_theme(demo: gr.Blocks, switch: gr.Radio) -> None:
    """A person's choice applies at once and is saved; a page load shows the saved one (both in the browser only)."""
    switch.input(None, switch, None, js=APPLY_JS, queue=False)
    demo.load(None, None, switch, js=RESTORE_JS, queue=False)
