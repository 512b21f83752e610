"""``%asanb export DIR``: a real IPython shell runs a %%asaquery cell, then exports that job as an ASA project
that asanb.Project.load reads back; bad usage is one ConfigError."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import asanb
from asanb.errors import ConfigError, ExportWarning
from asanb.notebook.registry import SESSION


def test_export_writes_the_last_cell_job_as_a_project(ip, tmp_path: Path) -> None:
    ip.user_ns["cars"] = pd.DataFrame({"speed": [50, 120, 130]})
    ip.run_cell("%%asaquery --quiet --su 6\n# fast ones\nSELECT speed INTO fast FROM cars WHERE speed > 100")
    with pytest.warns(ExportWarning, match="input 'cars' is a DataFrame"):
        summary = ip.run_line_magic("asanb", f"export {tmp_path / 'cell'} --name fastcars")
    assert summary.script.read_text().startswith("-- fast ones\n")
    project = asanb.Project.load(summary.project_file)
    assert (project.name, project.config.streaming_units) == ("fastcars", 6)
    assert project.run()["fast"]["speed"].tolist() == [120, 130]
    assert "warning: input 'cars' is a DataFrame" in str(summary)


def test_export_names_a_job_by_id_and_refuses_bad_usage(ip, tmp_path: Path) -> None:
    ip.user_ns["cars"] = pd.DataFrame({"speed": [1]})
    ip.run_cell("%%asaquery --quiet\nSELECT speed INTO first FROM cars")
    first = max(SESSION.jobs)
    ip.run_cell("%%asaquery --quiet\nSELECT speed INTO second FROM cars")
    with pytest.warns(ExportWarning):
        summary = ip.run_line_magic("asanb", f"export {tmp_path / 'x'} --job {first}")
    assert [output.alias for output in summary.project.outputs] == ["first"]
    with pytest.raises(ConfigError, match="Usage: %asanb export DIR"):
        ip.run_line_magic("asanb", "export")
    with pytest.raises(ConfigError, match="no job 999"):
        ip.run_line_magic("asanb", f"export {tmp_path / 'y'} --job 999")
