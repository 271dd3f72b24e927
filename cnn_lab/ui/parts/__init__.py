"""Widgets and wiring the tabs share: fields, checked inputs, themes, downloads."""
