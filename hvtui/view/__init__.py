"""Headless helpers of the workbench: its session, glyphs and scenario library (no Textual)."""
