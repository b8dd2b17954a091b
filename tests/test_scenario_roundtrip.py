"""Writing a scenario back: it reads as the same scenario, and saving is safe.

to_yaml is what the workbench's "save session" and `check --save` write, so
what it writes must load to an equal Scenario, and save() must never
clobber a file it was not told to replace, nor leave a half-written one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SCENARIOS
from hypothesis import given, settings
from scenario_strategies import scenario_docs, yaml_text

from hvtui import atomic
from hvtui.errors import InputError
from hvtui.scenario.load import load, parse, save, to_yaml

FILES = sorted(SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_shipped_scenario_survives_a_round_trip(path: Path):
    scenario = load(str(path))
    text = to_yaml(scenario)
    again = parse(text, str(path))
    assert again == scenario
    assert to_yaml(again) == text  # and the text is a fixed point: saving twice changes nothing


@settings(max_examples=150, deadline=None)
@given(scenario_docs())
def test_any_valid_scenario_survives_a_round_trip(doc):
    scenario = parse(yaml_text(doc), "gen.yaml")
    assert parse(to_yaml(scenario), "gen.yaml") == scenario


def test_strings_a_yaml_reader_would_misread_are_quoted():
    scenario = parse("name: x\nvcpus: 1\nactors: {vmm: []}\n", "s.yaml")
    for name in ("1e9", "0o17", "0x1F", "null", "true", "yes", "~", "12", ".inf", "-3"):
        text = to_yaml(replace(scenario, name=name))
        assert parse(text, "s.yaml").name == name, text


def test_a_description_ending_in_blank_lines_is_kept_and_the_rest_still_reads():
    scenario = parse("name: x\nvcpus: 1\nactors: {vmm: []}\n", "s.yaml")
    for prose in ("Two\nlines.\n\n", "one\n\n\n", "a\n  indented\n\n"):
        text = to_yaml(replace(scenario, description=prose))
        assert parse(text, "s.yaml") == replace(scenario, description=prose), text


def test_masks_written_in_hex_read_back_as_the_same_targets():
    text = "name: x\nvcpus: 70\nactors:\n  vcpu0:\n    - {op: flush, targets: {sparse: {1: 0x3}}}\n"
    scenario = parse(text, "s.yaml")
    again = parse(to_yaml(scenario), "s.yaml")
    assert again.program.vcpu_ops[0][0].targets == (64, 65)
    assert again == scenario


# -- save -------------------------------------------------------------------------


@pytest.fixture
def scenario():
    return load(str(SCENARIOS / "reviewer-race.yaml"))


def leftovers(directory: Path) -> list[str]:
    """Temp files save() might have left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".hvtui-"))


def test_save_writes_what_to_yaml_says(scenario, tmp_path):
    path = tmp_path / "out.yaml"
    save(scenario, str(path))
    assert path.read_text() == to_yaml(scenario)
    assert load(str(path)) == replace(scenario, file=str(path))
    assert leftovers(tmp_path) == []


def test_save_never_replaces_a_file_unless_told(scenario, tmp_path):
    path = tmp_path / "out.yaml"
    path.write_text("precious\n")
    with pytest.raises(InputError) as error:
        save(scenario, str(path))
    assert (
        str(error.value)
        == f"{path}: already exists (expected a new file, or --force to replace it)"
    )
    assert path.read_text() == "precious\n"
    save(scenario, str(path), overwrite=True)
    assert path.read_text() == to_yaml(scenario)
    assert leftovers(tmp_path) == []


def test_a_file_that_appears_while_saving_is_not_clobbered(scenario, tmp_path, monkeypatch):
    path = tmp_path / "out.yaml"
    real_link = os.link

    def someone_else_writes_first(src, dst):
        Path(dst).write_text("theirs\n")
        real_link(src, dst)

    monkeypatch.setattr(atomic.os, "link", someone_else_writes_first)
    with pytest.raises(InputError, match="already exists"):
        save(scenario, str(path))
    assert path.read_text() == "theirs\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_intact(scenario, tmp_path, monkeypatch, failing):
    path = tmp_path / "out.yaml"
    path.write_text("old\n")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, failing, disk_full)
    with pytest.raises(InputError) as error:
        save(scenario, str(path), overwrite=True)
    assert str(error.value) == (
        f"{path}: cannot write: No space left on device (the old file, if any, is unchanged)"
    )
    assert path.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_an_interrupt_mid_write_leaves_the_old_file_and_no_temp(scenario, tmp_path, monkeypatch):
    path = tmp_path / "out.yaml"
    path.write_text("old\n")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(scenario, str(path), overwrite=True)
    assert path.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_overwriting_keeps_the_files_permissions(scenario, tmp_path):
    path = tmp_path / "out.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    save(scenario, str(path), overwrite=True)
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_new_file_gets_the_usual_permissions_not_mkstemps(scenario, tmp_path):
    path = tmp_path / "out.yaml"
    old = os.umask(0o022)
    try:
        save(scenario, str(path))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_saving_into_a_missing_directory_is_an_input_error(scenario, tmp_path):
    path = tmp_path / "nowhere" / "out.yaml"
    with pytest.raises(InputError) as error:
        save(scenario, str(path))
    assert str(error.value) == (
        f"{path}: cannot write here: No such file or directory (expected a writable directory)"
    )
