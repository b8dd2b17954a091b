"""A headless run of a scenario and its plain-text report (shared by run, exports, the TUI)."""
