"""%%asaquery in a real IPython shell: inputs from the namespace, {var} substitution, -o capture, clean errors."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.testing.globalipapp import start_ipython


@pytest.fixture(scope="module")
def ip():
    shell = start_ipython()
    shell.run_line_magic("load_ext", "asanb")
    return shell


def test_cell_reads_a_dataframe_of_the_same_name_and_captures_results(ip, capsys) -> None:
    ip.user_ns["input"] = pd.DataFrame({"speed": [50, 120, 130]})
    ip.user_ns["limit"] = 100
    ip.run_cell_magic("asaquery", "-o res", "SELECT speed INTO fast FROM input WHERE speed > {limit}")
    assert ip.user_ns["res"]["fast"]["speed"].tolist() == [120, 130]
    assert "events in: input=3" in capsys.readouterr().out


def test_input_option_maps_an_alias_to_a_variable(ip) -> None:
    ip.user_ns["events"] = pd.DataFrame({"v": [1, 2]})
    ip.run_cell_magic("asaquery", "--input stream=events -o res2 --quiet", "SELECT v INTO o FROM stream")
    assert ip.user_ns["res2"]["o"]["v"].tolist() == [1, 2]


def test_errors_print_the_message_with_a_caret_and_no_traceback(ip, capsys) -> None:
    ip.run_cell_magic("asaquery", "", "SELECT speed FROM input WHERE")
    out = capsys.readouterr().out
    assert out.startswith("AsaSyntaxError") and "^" in out and "Traceback" not in out
