"""Page-ready values from plain data: curves, tables, logs and figures (no Gradio)."""
