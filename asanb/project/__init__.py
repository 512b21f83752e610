"""ASA projects (Visual Studio Code / azure-streamanalytics-cicd layout): load, run and test them locally.

``Project.load("asaproj.json")`` reads a project into the frozen model of ``asanb.project.model``;
``asanb.testing.run_test_config`` runs its ``test/testConfig.json`` cases.
"""

from __future__ import annotations

from asanb.project.model import (
    FunctionSpec,
    InputSpec,
    JobSettings,
    LocalInput,
    OutputSpec,
    Project,
    Serialization,
)

__all__ = ["FunctionSpec", "InputSpec", "JobSettings", "LocalInput", "OutputSpec", "Project", "Serialization"]
