"""docs/operations.md "Configuration" is the one table of environment variables, equal to
app.config."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app import config
from deploy import config_table

REPO = Path(__file__).resolve().parents[2]


def test_the_operations_guide_table_matches_the_settings() -> None:
    text = (REPO / "docs" / "operations.md").read_text()
    current = config_table.current_block(text)
    assert current is not None, "docs/operations.md lost its config-table markers"
    assert current == config_table.block(), (
        "The configuration table is stale: run `.venv/bin/python -m deploy.config_table "
        "--write`")


def test_every_setting_has_a_row_with_its_meaning() -> None:
    table = config_table.markdown()
    for field in dataclasses.fields(config.Settings):
        variable = "PLAYGROUND_" + field.name.upper()
        row = next((line for line in table.splitlines() if f"`{variable}`" in line), None)
        assert row is not None, variable
        assert row.rstrip(" |").split("|")[-1].strip(), f"{variable} has no meaning"


def test_host_dependent_defaults_are_described_not_printed() -> None:
    row = next(line for line in config_table.markdown().splitlines()
               if "`PLAYGROUND_MAX_CONCURRENT`" in line)
    assert "CPU cores" in row


def test_start_script_variables_are_the_ones_serve_sh_reads() -> None:
    serve = (REPO / "scripts" / "serve.sh").read_text()
    for variable, _, _ in config_table.SERVE_VARIABLES:
        assert f"${{{variable}" in serve or f"${variable}" in serve, variable


def test_write_replaces_only_the_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = tmp_path / "operations.md"
    stale = f"intro\n{config_table.START}\n| old |\n{config_table.END}\noutro\n"
    readme.write_text(stale)
    monkeypatch.setattr(config_table, "DOC", readme)
    assert config_table.main(["--write"]) == 0
    assert readme.read_text() == f"intro\n{config_table.block()}\noutro\n"
