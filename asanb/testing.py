"""asanb.testing: run an ASA project's testConfig.json cases (azure-streamanalytics-cicd ``test``) from
Python or pytest, and write conformance cases out as ASA projects. Re-exports asanb.project.testing."""

from __future__ import annotations

__all__: list[str] = []
