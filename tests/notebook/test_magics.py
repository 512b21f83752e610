"""%%asaquery in a real IPython shell: inputs from options, the namespace and registered sources, {var}
substitution, -o capture, --timestamp-by, rendering, and errors shown as one message with a caret."""

from __future__ import annotations

import pandas as pd
import pytest

import asanb
from asanb.notebook.registry import register_source


def run_cell(ip, line: str, query: str, capsys):
    """Run a %%asaquery cell the way a notebook does; return (execution result, printed text)."""
    result = ip.run_cell(f"%%asaquery {line}\n{query}")
    return result, capsys.readouterr().out


def test_cell_reads_a_dataframe_of_the_same_name_and_captures_results(ip, capsys) -> None:
    ip.user_ns["input"] = pd.DataFrame({"speed": [50, 120, 130]})
    ip.user_ns["limit"] = 100
    result, out = run_cell(ip, "-o res", "SELECT speed INTO fast FROM input WHERE speed > {limit}", capsys)
    assert result.success
    assert ip.user_ns["res"]["fast"]["speed"].tolist() == [120, 130]
    assert "fast: 2 rows" in out
    assert "events in: input=3" in out and "events out: fast=2" in out and "state: Stopped" in out


def test_input_option_maps_an_alias_to_a_variable_a_sim_url_and_a_registered_source(ip, capsys) -> None:
    ip.user_ns["events"] = pd.DataFrame({"v": [1, 2]})
    run_cell(ip, "--input stream=events -o res2 --quiet", "SELECT v INTO o FROM stream", capsys)
    assert ip.user_ns["res2"]["o"]["v"].tolist() == [1, 2]

    result, out = run_cell(ip, "--input taxi=sim:taxi?events=40 --limit 25 -o res3 -q",
                           "SELECT distance INTO o FROM taxi", capsys)
    assert result.success and out == ""
    assert len(ip.user_ns["res3"]["o"]) == 25

    register_source("readings", pd.DataFrame({"t": [3.5]}))
    run_cell(ip, "-o res4 -q", "SELECT t INTO o FROM readings", capsys)
    assert ip.user_ns["res4"]["o"]["t"].tolist() == [3.5]


def test_a_syntax_error_shows_the_line_and_a_caret_without_a_traceback(ip, capsys) -> None:
    result, out = run_cell(ip, "", "SELECT speed\nFROM input WHERE", capsys)
    assert isinstance(result.error_in_exec, asanb.AsaSyntaxError)
    assert out.startswith("AsaSyntaxError") and "Traceback" not in out
    assert "   2 | FROM input WHERE\n" in out and out.rstrip().endswith("^")


def test_a_missing_input_says_what_to_type(ip, capsys) -> None:
    ip.user_ns["trips"] = pd.DataFrame({"v": [1]})
    result, out = run_cell(ip, "", "SELECT v INTO o FROM trip", capsys)
    assert isinstance(result.error_in_exec, asanb.PlanError)
    assert "Did you mean --input trip=trips?" in out and "Traceback" not in out
    assert "^^^^" in out  # under the FROM name


@pytest.mark.parametrize(("line", "message"), [
    ("--limt 5", "did you mean --limit?"),
    ("--input events", "--input takes ALIAS=SOURCE"),
    ("--input x=no_such_variable", "there is no variable named 'no_such_variable'"),
    ("--clock replay --speed 10", "--speed only applies to --clock paced"),
    ("--su many", "invalid int value"),
])
def test_bad_options_are_one_clear_message(ip, capsys, line, message) -> None:
    ip.user_ns["input"] = pd.DataFrame({"v": [1]})
    result, out = run_cell(ip, line, "SELECT v INTO o FROM input", capsys)
    assert isinstance(result.error_in_exec, asanb.ConfigError)
    assert message in out and "Traceback" not in out


def test_timestamp_by_hint_gives_event_time_to_a_dataframe(ip, capsys) -> None:
    ip.user_ns["clicks"] = pd.DataFrame({
        "time": ["2026-01-01T00:00:01Z", "2026-01-01T00:00:04Z", "2026-01-01T00:00:12Z"], "n": [1, 1, 1]})
    query = "SELECT COUNT(*) AS c, System.Timestamp() AS w INTO o FROM clicks AS k GROUP BY TumblingWindow(second, 10)"
    result, _ = run_cell(ip, "--timestamp-by time -o res -q", query, capsys)
    assert result.success, result.error_in_exec
    counts = ip.user_ns["res"]["o"]
    assert counts["c"].tolist() == [2, 1]
    assert counts["w"].astype(str).tolist()[0].startswith("2026-01-01 00:00:10")


def test_timestamp_by_a_column_that_holds_no_times_names_the_columns_that_do(ip, capsys) -> None:
    ip.user_ns["clicks"] = pd.DataFrame({"when": ["2026-01-01T00:00:01Z"], "n": ["x"]})
    result, out = run_cell(ip, "--timestamp-by n", "SELECT n INTO o FROM clicks", capsys)
    assert isinstance(result.error_in_exec, asanb.ConfigError)
    assert "does not hold times" in out and "columns that hold times: when" in out


def test_a_failed_job_keeps_its_rows_in_the_capture_and_raises(ip, capsys) -> None:
    def fail_on_negative(values: pd.Series) -> pd.Series:
        if (values < 0).any():
            raise ValueError("negative speed")
        return values

    asanb.notebook.register_function(asanb.PythonFunction("check", fail_on_negative))
    ip.user_ns["input"] = [pd.DataFrame({"v": [1, 2]}), pd.DataFrame({"v": [-1]})]
    result, out = run_cell(ip, "-o failed", "SELECT udf.check(v) AS v INTO o FROM input", capsys)
    assert isinstance(result.error_in_exec, asanb.EventError)
    assert ip.user_ns["failed"].state == "Failed"
    assert ip.user_ns["failed"]["o"]["v"].tolist() == [1, 2]
    assert "o: 2 rows" in out and "negative speed" in out and "Traceback" not in out


def test_line_magics_list_inputs_functions_and_settings(ip) -> None:
    ip.user_ns["input"] = pd.DataFrame({"v": [1, 2]})
    asanb.notebook.register_function(asanb.PythonFunction("double", lambda v: v * 2))
    inputs = ip.run_line_magic("asanb", "inputs")
    assert inputs.set_index("name").loc["input", "rows"] == 2
    assert ip.run_line_magic("asanb", "functions")["alias"].tolist() == ["double"]
    assert ip.run_line_magic("asanb", "config su=12 clock=paced")["streaming_units"] == 12
    with pytest.raises(asanb.ConfigError, match="clock must be one of"):
        ip.run_line_magic("asanb", "config clock=fast")
    assert ip.run_line_magic("asanb", "config")["clock"] == "paced"
    with pytest.raises(asanb.ConfigError, match="Usage: %asanb inputs"):
        ip.run_line_magic("asanb", "frobnicate")


def test_one_line_asaquery_takes_options_then_the_query(ip, capsys) -> None:
    ip.user_ns["line_events"] = pd.DataFrame({"speed": [50, 120]})
    result = ip.run_cell("%asaquery -o line_res SELECT speed INTO fast FROM line_events WHERE speed > 100")
    assert result.success, result.error_in_exec
    assert ip.user_ns["line_res"]["fast"]["speed"].tolist() == [120]
    assert "fast: 1 rows" in capsys.readouterr().out
    with_step = "%asaquery -q -o line_res2 WITH s AS (SELECT speed FROM line_events) SELECT speed INTO o FROM s"
    assert ip.run_cell(with_step).success and len(ip.user_ns["line_res2"]["o"]) == 2
    result = ip.run_cell("%asaquery -o x")
    assert isinstance(result.error_in_exec, asanb.ConfigError)
    assert "starting with SELECT or WITH" in capsys.readouterr().out
    del ip.user_ns["line_events"]


def test_caret_points_into_the_cell_as_typed_after_substitution(ip, capsys) -> None:
    ip.user_ns["subst_events"] = pd.DataFrame({"speed": [1]})
    ip.user_ns["column"] = "speedx"
    ip.user_ns["limit"] = 100
    # The unknown column came from {column}: the caret is under {column}, and the message says what ran.
    result, out = run_cell(ip, "", "SELECT speed\nFROM subst_events WHERE {column} > {limit}", capsys)
    assert isinstance(result.error_in_exec, asanb.PlanError)
    assert "   2 | FROM subst_events WHERE {column} > {limit}\n" in out
    caret = out.rstrip().splitlines()[-1]
    assert caret.index("^") == len("   2 | FROM subst_events WHERE ") and caret.count("^") == len("{column}")
    assert "the query ran with 'speedx' there" in out
    # An error in typed text after a substitution: the caret stays under what was typed.
    result, out = run_cell(ip, "", "SELECT speed FROM subst_events WHERE speed > {limit} AND nosuch > 1", capsys)
    line = "   1 | SELECT speed FROM subst_events WHERE speed > {limit} AND nosuch > 1"
    assert line in out and out.rstrip().splitlines()[-1].index("^") == line.index("nosuch")
    assert "the query ran with" not in out
    del ip.user_ns["subst_events"]


def test_timestamp_by_hint_does_not_move_the_caret(ip, capsys) -> None:
    ip.user_ns["ts_events"] = pd.DataFrame({"time": ["2026-01-01T00:00:01Z"], "v": [1]})
    result, out = run_cell(ip, "--timestamp-by time", "SELECT v, nosuch INTO o FROM ts_events", capsys)
    assert isinstance(result.error_in_exec, asanb.PlanError)
    line = "   1 | SELECT v, nosuch INTO o FROM ts_events"
    assert line in out and out.rstrip().splitlines()[-1].index("^") == line.index("nosuch")
    del ip.user_ns["ts_events"]


def test_charts_setting_and_dashboard_command(ip) -> None:
    assert ip.run_line_magic("asanb", "config charts=static")["charts"] == "static"
    with pytest.raises(asanb.ConfigError, match="charts is auto, live, static"):
        ip.run_line_magic("asanb", "config charts=sometimes")
    asanb.notebook.registry.SESSION.dashboards.clear()
    with pytest.raises(asanb.ConfigError, match="no job has a dashboard yet"):
        ip.run_line_magic("asanb", "dashboard")
    with pytest.raises(asanb.ConfigError, match="one job id"):
        ip.run_line_magic("asanb", "dashboard x")
