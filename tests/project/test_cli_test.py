"""``asanb test`` on the command line: the real console entry in a subprocess, exit codes as the cicd tool
(0 passed, -2 a case failed, -1 an exception; a shell sees 254 and 255), and asanb.cli.main in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from project_helpers import FIXTURES

from asanb.cli import main


def _asanb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "asanb", *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_console_entry_exit_codes(speeding: Path, tmp_path: Path) -> None:
    passed = _asanb("test", "--project", str(FIXTURES / "speeding" / "asaproj.json"), "--outputPath",
                    str(tmp_path / "ok"))
    assert passed.returncode == 0, passed.stderr
    assert "Case 1: PASS" in passed.stdout
    assert json.loads((tmp_path / "ok" / "testResultSummary.json").read_text())["Passed"] == 1

    expected = speeding / "test" / "Case1" / "Fast.json"
    expected.write_text(expected.read_text().replace("XYZ-003", "XYZ-999"))
    failed = _asanb("test", "--project", str(speeding), "--outputPath", str(tmp_path / "bad"))
    assert failed.returncode == 254  # -2
    assert "Case 1: FAIL" in failed.stdout and "XYZ-999" in failed.stdout

    broken = _asanb("test", "--project", str(tmp_path / "missing" / "asaproj.json"))
    assert broken.returncode == 255  # -1
    assert "ProjectError" in broken.stderr and "missing" in broken.stderr and "Traceback" not in broken.stderr


def test_test_config_path_option_and_in_process_main(speeding: Path, tmp_path: Path, capsys) -> None:
    moved = tmp_path / "elsewhere"
    (speeding / "test").rename(moved)
    config = moved / "testConfig.json"
    config.write_text(config.read_text().replace('"../speeding.asaql"', json.dumps(str(speeding / "speeding.asaql"))))
    assert main(["test", "--project", str(speeding), "--testConfigPath", str(config),
                 "--outputPath", str(tmp_path / "out")]) == 0
    assert main(["test", "--project", str(speeding), "--outputPath", str(tmp_path / "out")]) == -1
    assert "testConfig.json" in capsys.readouterr().err
