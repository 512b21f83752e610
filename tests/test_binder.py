"""The Binder environment, rebuilt the way Binder builds it: a fresh venv on binder/runtime.txt's Python, then
binder/requirements.txt, then binder/postBuild (which installs asanb without dependencies), from a copy of the
repository. A notebook must then run there under nbval, so a missing pin shows up here and not on Binder.

The environment tests are slow (a venv and a dozen wheels from pip's cache): skipped unless ASANB_BINDER=1, which `make test-binder`
sets and .ci/run runs after `make test`. It also checks the Dockerfile repo2docker's dry run would build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"

# The checks of the files themselves are quick and always run; building the environment is opt-in.
slow = [pytest.mark.binder,
        pytest.mark.skipif(os.environ.get("ASANB_BINDER") != "1", reason="slow: run with `make test-binder`")]


def _slow(test):  # type: ignore[no-untyped-def]
    for mark in slow:
        test = mark(test)
    return test

# Binder's base image brings JupyterLab, Notebook and ipykernel; nbval stands in for the person running cells.
KERNEL_TOOLS = ["ipykernel", "nbval"]


def _runtime_version() -> str:
    text = (BINDER / "runtime.txt").read_text().strip()
    assert text.startswith("python-"), f"binder/runtime.txt must read python-X.Y, got {text!r}"
    return text.removeprefix("python-")


def test_runtime_names_a_python_that_has_pandas_3() -> None:
    major, minor = map(int, _runtime_version().split("."))
    assert (major, minor) >= (3, 11), "Binder defaults to 3.10, where pandas 3 does not exist"


def test_requirements_pin_every_dependency_of_asanb_and_its_notebook_extra() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["notebook"]
    names = {_name(requirement) for requirement in wanted}
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"binder/requirements.txt: pin exact versions, got {line!r}"
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    assert sorted(names - set(pins)) == [], "dependencies missing from binder/requirements.txt"


def _name(requirement: str) -> str:
    for separator in "<>=!~;[ ":
        requirement = requirement.split(separator)[0]
    return requirement.strip().lower().replace("_", "-")


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the repository with a venv built from binder/ alone."""
    root = tmp_path_factory.mktemp("binder")
    repo = root / "repo"
    shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "build", "__pycache__", ".*_cache", ".hypothesis", "demo-output"))
    env = root / "venv"
    version = _runtime_version()
    if f"{sys.version_info.major}.{sys.version_info.minor}" != version:
        pytest.skip(f"binder/runtime.txt asks for Python {version}; this test runs on {sys.version.split()[0]}")
    venv.EnvBuilder(with_pip=True, clear=True).create(env)  # no system site-packages: a missing pin must fail
    python = env / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "-r", str(repo / "binder" / "requirements.txt"),
          *KERNEL_TOOLS], cwd=repo)
    path = f"{env / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    _run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, extra_env={"PATH": path})
    return repo, python


def _run(command: list, cwd: Path, extra_env: dict[str, str] | None = None, stderr: bool = False) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra_env or {})
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + (done.stderr if stderr else "")


@_slow
def test_asanb_imports_from_the_binder_environment_not_from_the_repository(binder_env: tuple[Path, Path]) -> None:
    repo, python = binder_env
    where = _run([python, "-c", "import asanb, asanb.notebook; print(asanb.__file__)"], cwd=repo.parent)
    assert "site-packages" in where


@_slow
def test_a_notebook_runs_in_the_binder_environment(binder_env: tuple[Path, Path]) -> None:
    repo, python = binder_env
    notebook = repo / "notebooks" / "04-ml-udf-dataframe-input.ipynb"
    out = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-o", "timeout=0",
                "--rootdir", str(repo.parent), "--nbval-lax", "--nbval-current-env",
                "--nbval-sanitize-with", str(repo / "notebooks" / "nbval_sanitize.cfg"), str(notebook)],
               cwd=repo.parent)
    assert " passed" in out and "failed" not in out


@_slow
def test_repo2docker_dry_run_builds_from_binder_with_its_python(binder_env: tuple[Path, Path],
                                                                tmp_path: Path) -> None:
    # repo2docker's --no-build mode prints the Dockerfile it would build, without Docker.
    repo, _ = binder_env
    tools = tmp_path / "repo2docker"
    venv.EnvBuilder(with_pip=True).create(tools)
    _run([tools / "bin" / "python", "-m", "pip", "install", "--quiet", "jupyter-repo2docker"], cwd=tmp_path)
    out = _run([tools / "bin" / "jupyter-repo2docker", "--no-build", "--no-run", "--debug", repo], cwd=tmp_path,
               extra_env={"PATH": f"{tools / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}, stderr=True)
    assert f"python={_runtime_version()}" in out
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in out
    assert "RUN ./binder/postBuild" in out
