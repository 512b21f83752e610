"""The command line: `asanb run` over local files writes one JSON-lines file per output; errors exit non-zero."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from asanb.cli import main

EVENTS = [
    {"time": "2026-01-01T00:00:01Z", "make": "Make1", "weight": 1000},
    {"time": "2026-01-01T00:00:03Z", "make": "Make2", "weight": 1500},
    {"time": "2026-01-01T00:00:12Z", "make": "Make1", "weight": 2000},
]


def write(tmp_path: Path, query: str) -> tuple[Path, Path]:
    (tmp_path / "q.asaql").write_text(query)
    (tmp_path / "events.json").write_text(json.dumps(EVENTS))
    return tmp_path / "q.asaql", tmp_path / "events.json"


def test_run_writes_one_json_lines_file_per_output(tmp_path: Path, capsys) -> None:
    query, events = write(tmp_path, "SELECT make INTO heavy FROM input WHERE weight > 1200\n"
                                    "SELECT COUNT(*) AS n, System.Timestamp() AS t INTO counts FROM input "
                                    "TIMESTAMP BY time GROUP BY TumblingWindow(second, 10)")
    code = main(["run", str(query), "--input", f"input={events}", "--out", str(tmp_path / "out")])
    assert code == 0
    heavy = [json.loads(line) for line in (tmp_path / "out" / "heavy.json").read_text().splitlines()]
    counts = [json.loads(line) for line in (tmp_path / "out" / "counts.json").read_text().splitlines()]
    assert heavy == [{"make": "Make2"}, {"make": "Make1"}]
    assert counts == [{"n": 2, "t": "2026-01-01T00:00:10.0000000Z"}, {"n": 1, "t": "2026-01-01T00:00:20.0000000Z"}]
    assert "events in: input=3" in capsys.readouterr().out


def test_syntax_error_exits_1_with_the_caret(tmp_path: Path, capsys) -> None:
    query, events = write(tmp_path, "SELECT make FROM input WHERE")
    assert main(["run", str(query), "--input", f"input={events}", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "AsaSyntaxError" in err and "^" in err


def test_missing_query_file_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["run", str(tmp_path / "nope.asaql")]) == 2


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "asanb", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "serve-model" in done.stdout
