"""``%%asaquery --project`` in a real IPython shell: a cell of only comments runs the project's script on its local
inputs, reference data and JavaScript UDF; a written cell runs against the project's inputs; --input wins."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).parents[1] / "project" / "fixtures" / "speeding" / "asaproj.json"


def test_comment_only_cell_runs_the_project_script(ip) -> None:
    result = ip.run_cell(f"%%asaquery --project {PROJECT} -o project_results -q\n-- the project's own script\n")
    assert result.success, result.error_in_exec
    results = ip.user_ns["project_results"]
    assert sorted(results["Fast"]["kmh"].tolist()) == [193, 209]
    assert sorted(results["Counts"]["cars"].tolist()) == [1, 1, 1, 2]


def test_written_cell_uses_project_inputs_and_input_option_overrides(ip) -> None:
    ip.user_ns["one_car"] = pd.DataFrame({"make": ["Make3"], "speed": [10]})
    cell = "SELECT i.make, m.country, udf.kmh(i.speed) AS kmh INTO o FROM Input i JOIN Makes m ON i.make = m.make"
    result = ip.run_cell(f"%%asaquery --project {PROJECT} --input Input=one_car -o cell_results -q\n{cell}")
    assert result.success, result.error_in_exec
    assert ip.user_ns["cell_results"]["o"].to_dict("records") == [{"make": "Make3", "country": "US", "kmh": 16}]


def test_missing_project_is_one_clean_error(ip, tmp_path) -> None:
    result = ip.run_cell(f"%%asaquery --project {tmp_path / 'none.json'}\n-- run it\n")
    assert type(result.error_in_exec).__name__ == "ProjectError"
    assert "none.json" in str(result.error_in_exec)
