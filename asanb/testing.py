"""asanb.testing: run an ASA project's testConfig.json cases (azure-streamanalytics-cicd ``test``) from
Python or pytest, and write shared conformance cases out as ASA projects.

    >>> report = asanb.testing.run_test_config("my_project/asaproj.json", output_path=tmp_path)
    >>> report.assert_passed()
"""

from __future__ import annotations

from asanb.project.compare import compare_rows
from asanb.project.conformance import write_conformance_project
from asanb.project.testing import EXIT_EXCEPTION, EXIT_FAILED, EXIT_PASSED, TestReport, run_test_config

__all__ = ["EXIT_EXCEPTION", "EXIT_FAILED", "EXIT_PASSED", "TestReport", "compare_rows", "run_test_config",
           "write_conformance_project"]
