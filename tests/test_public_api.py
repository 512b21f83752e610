"""The public surface: everything in asanb.__all__ exists, and public-looking names are listed."""

from __future__ import annotations

import asanb


def test_all_names_exist_and_are_sorted() -> None:
    for name in asanb.__all__:
        assert hasattr(asanb, name), name
    assert list(asanb.__all__) == sorted(asanb.__all__, key=str.casefold) or sorted(asanb.__all__) == list(
        asanb.__all__
    )


def test_every_public_attribute_is_exported() -> None:
    modules = {"config", "errors", "event_loop", "job", "udf", "sql", "plan", "engine", "io", "cli", "notebook", "demo", "types", "project", "testing",
               "tune", "widgets"}
    public = {name for name in vars(asanb) if not name.startswith("_") and name not in modules}
    assert public - {"annotations"} <= set(asanb.__all__)


def test_errors_share_one_root() -> None:
    for name in asanb.__all__:
        value = getattr(asanb, name)
        if isinstance(value, type) and issubclass(value, Warning):
            # Warnings are not errors: they have their own root so `warnings.filterwarnings` can target them.
            assert issubclass(value, asanb.AsanbWarning), name
        elif isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, asanb.AsanbError), name


def test_tune_and_widgets_load_on_first_use() -> None:
    import subprocess
    import sys

    code = ("import sys, asanb; assert 'ipywidgets' not in sys.modules; "
            "form = asanb.widgets.MLFunctionForm; assert asanb.tune.batch_size; print(form.__module__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "asanb.notebook.widgets"
    try:
        asanb.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("a missing attribute must raise AttributeError")
