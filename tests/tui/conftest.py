"""Every workbench test keeps its recovery files in its own temporary folder."""

import pytest


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HVTUI_STATE_DIR", str(tmp_path / "state"))
