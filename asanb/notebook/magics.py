"""``%%asaquery`` and ``%asanb``: a thin layer over asanb.run. The cell's query gets ``{var}`` substituted,
its inputs resolved from options, the namespace or registered sources, and runs as a Job on its own thread
(the cell waits; Ctrl-C stops it and keeps what was emitted; ``--background`` returns the Job at once).
Errors raise as AsanbError, which Jupyter shows as one message with the query line and a caret."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pandas as pd
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from asanb.config import JobConfig
from asanb.errors import AsanbError, ConfigError
from asanb.notebook.export_command import export_command
from asanb.notebook.frontend import CHART_MODES
from asanb.notebook.inputs import check_timestamp_columns, resolve_inputs
from asanb.notebook.jobs import Job
from asanb.notebook.options import CellOptions, parse_options, split_line
from asanb.notebook.query_text import add_timestamp_by, called_functions, input_sources, substitute
from asanb.notebook.registry import DEFAULTS, SESSION, register_function
from asanb.notebook.render import OutputHeader, StaticFigure, Summary, display, error_message
from asanb.project import Project
from asanb.project.runner import project_sources
from asanb.sql.parser import parse

__all__ = ["AsaMagics", "register_function"]

LINE_USAGE = ("%asanb inputs | functions | function --ml|--js | jobs | stop [ID] | dashboard [ID] | "
              "config [key=value ...] "
              f"(config keys: {', '.join(DEFAULTS)})")


def _prepare(cell: str, options: CellOptions, namespace: dict[str, Any],
             project: Project | None = None) -> tuple[str, dict[str, Any], list[Any], dict[str, Any]]:
    """The query to run, its inputs, the functions it calls and its reference data. With a project, an
    empty cell runs the project's script, and the project's local input files and functions are used
    where the options and the namespace do not name the input."""
    # A cell of only comments (IPython refuses an empty %%cell) runs the project's own script.
    only_comments = all(not line.strip() or line.strip().startswith("--") for line in cell.splitlines())
    query = substitute(project.script if project is not None and only_comments else cell.rstrip(), namespace)
    reference: dict[str, Any] = {}
    try:
        tree = parse(query)
        if options.timestamp_by:
            query = add_timestamp_by(query, tree, options.timestamp_by)
            tree = parse(query)
        sources = input_sources(tree)
        if project is not None:
            declared = {spec.alias.lower() for spec in project.inputs}
            sources = [source for source in sources if source.name.lower() not in declared]
        inputs = resolve_inputs(query, sources, options.inputs, namespace, SESSION)
        if project is not None:
            inputs, reference = project_sources(project, inputs)
    except AsanbError as error:
        raise error_message(error, query, cell) from None
    check_timestamp_columns(inputs, options.timestamp_by)
    called = called_functions(tree)
    functions = [function for alias, function in SESSION.functions.items() if alias in called]
    if project is not None:
        own = {spec.alias.lower() for spec in project.functions}
        functions = [spec.definition for spec in project.functions] + [
            function for function in functions if str(getattr(function, "alias", "")).lower() not in own]
    return query, inputs, functions, reference


def _config(options: CellOptions, base: JobConfig | None = None) -> JobConfig:
    """The cell's settings: the options, then the project's JobConfig.json (``base``), then %asanb config."""
    defaults = SESSION.defaults
    clock = options.clock or defaults["clock"]
    streaming_units = options.streaming_units or (base.streaming_units if base else int(defaults["streaming_units"]))
    settings: dict[str, Any] = {"streaming_units": streaming_units, "clock": clock,
                                "speed": options.speed or float(defaults["speed"]),
                                "duration_seconds": options.duration_seconds,
                                "limit_events": options.limit_events}
    return base.replace(**settings) if base is not None else JobConfig(**settings)


def _concurrency_limit(functions: list[Any], config: JobConfig) -> int | None:
    limits = [config.partitions * function.parallel_requests_per_partition
              for function in functions if hasattr(function, "parallel_requests_per_partition")]
    return sum(limits) if limits else None


@magics_class
class AsaMagics(Magics):
    """The asanb magics."""

    def _namespace(self) -> dict[str, Any]:
        assert self.shell is not None, "the magics are registered on a shell"
        return self.shell.user_ns  # type: ignore[no-any-return]

    def _wants_dashboard(self, options: CellOptions, functions: list[Any]) -> bool:
        if options.dashboard is not None:
            return options.dashboard
        setting = SESSION.defaults["dashboard"]
        if setting in (True, False):
            return bool(setting)
        # "auto": live charts only where a widget frontend can show them, and only when a model is called.
        in_kernel = getattr(self.shell, "kernel", None) is not None
        return in_kernel and not options.quiet and _concurrency_limit(functions, JobConfig()) is not None

    @cell_magic
    def asaquery(self, line: str, cell: str) -> Any:
        """Run the cell's SAQL query: ``%%asaquery --input input=df -o results`` (``%asanb`` lists more);
        with ``--project asaproj.json`` a cell of only ``--`` comments runs the project's own script."""
        namespace = self._namespace()
        options = parse_options(line)
        project = Project.load(options.project) if options.project else None
        query, inputs, functions, reference = _prepare(cell, options, namespace, project)
        config = _config(options, project.config if project else None)
        dashboard, static_reason = None, ""
        if self._wants_dashboard(options, functions):
            from asanb.notebook.dashboard import Dashboard
            from asanb.notebook.frontend import live_widgets
            from asanb.notebook.live_metrics import LiveMetrics

            live, static_reason = live_widgets(self.shell)
            dashboard = Dashboard(LiveMetrics(_concurrency_limit(functions, config)),
                                  title=_dashboard_title(query), live=live)
        job = Job(query, inputs, functions=functions, config=config, reference=reference,
                  on_progress=dashboard.on_progress if dashboard else None,
                  on_request=dashboard.on_request if dashboard else None)
        job.id = SESSION.add_job(job)
        if dashboard is not None:
            SESSION.dashboards[job.id] = dashboard
            if dashboard.live:
                dashboard.stop_button.on_click(lambda _button: job.stop(wait=False))
                display(dashboard.widget)
            elif options.background and not options.quiet:
                print(f"Live charts are off here ({static_reason}); `%asanb dashboard {job.id}` "  # noqa: T201
                      "shows the charts so far.")
        if options.background:
            return self._background(job.start(), options, namespace, dashboard)
        return self._foreground(job, options, namespace, dashboard, cell)

    @line_magic("asaquery")  # type: ignore[arg-type]  # IPython types the named form loosely
    def asaquery_line(self, line: str) -> Any:
        """One-line form: ``%asaquery [options] SELECT ... FROM ...`` (the same options as ``%%asaquery``)."""
        options_text, query = split_line(line)
        return self.asaquery(options_text, query)  # type: ignore[misc, call-arg]  # the undecorated method

    def _background(self, job: Job, options: CellOptions, namespace: dict[str, Any], dashboard: Any) -> Job:
        if dashboard is not None:
            # On the job thread: update widget traits only (printing here would land in another cell).
            job.add_done_callback(lambda ended: dashboard.finish(ended.state, _reason(ended)))
        if options.out:
            namespace[options.out] = job
        return job

    def _foreground(self, job: Job, options: CellOptions, namespace: dict[str, Any], dashboard: Any,
                    cell: str = "") -> None:
        try:
            try:
                job.start()
                results = job.wait()
            except KeyboardInterrupt:  # arrived before the wait began
                job.interrupted = True
                job.stop(wait=False)
                results = job.wait()
        except AsanbError as error:
            if dashboard is not None:
                dashboard.close()
            raise error_message(error, job.query, cell) from None
        if dashboard is not None:
            static = dashboard.finish(results.state, _reason(job))
            dashboard.close()
            display(StaticFigure(static))
        if options.out:
            namespace[options.out] = results
        if not options.quiet:
            for alias, frame in results.outputs.items():
                display(OutputHeader(alias, frame), frame)
            display(Summary(results, job.wall_seconds))
        if job.interrupted:
            kept = sum(len(frame) for frame in results.outputs.values())
            print(f"Interrupted: the job stopped; the {kept:,} rows emitted so far are kept.")  # noqa: T201
        if results.state == "Failed" and results.error is not None:
            raise error_message(results.error, job.query, cell)
        return None

    @line_magic
    def asanb(self, line: str) -> Any:
        """``%asanb inputs|functions|function --ml|--js|jobs|stop [ID]|config [key=value ...]``."""
        words = shlex.split(line)
        command, rest = (words[0], words[1:]) if words else ("", [])
        handlers = {"inputs": self._inputs, "functions": lambda _rest: SESSION.functions_frame(),
                    "function": self._function_form, "jobs": lambda _rest: _jobs_frame(),
                    "dashboard": _dashboard_figure,
                    "stop": _stop_jobs, "config": _configure, "export": export_command}
        if command not in handlers:
            raise ConfigError(f"unknown %asanb command {command!r}. Usage: {LINE_USAGE}")
        return handlers[command](rest)

    def _inputs(self, rest: list[str]) -> pd.DataFrame:
        rows = [{"name": name, "kind": "DataFrame variable", "rows": len(value),
                 "columns": ", ".join(map(str, value.columns))}
                for name, value in self._namespace().items()
                if isinstance(value, pd.DataFrame) and not name.startswith("_")]
        rows += [{"name": name, "kind": "registered source", "rows": None, "columns": str(source)[:80]}
                 for name, source in SESSION.sources.items()]
        return pd.DataFrame(rows, columns=["name", "kind", "rows", "columns"])

    def _function_form(self, rest: list[str]) -> Any:
        if rest == ["--js"]:
            from asanb.notebook.js_widgets import JavaScriptFunctionForm

            return JavaScriptFunctionForm()
        if rest != ["--ml"]:
            raise ConfigError("%asanb function --ml shows the ML function form, %asanb function --js the "
                              f"JavaScript UDF form; got {' '.join(rest) or 'no option'!r}")
        from asanb.notebook.widgets import MLFunctionForm

        return MLFunctionForm()


def _reason(job: Job) -> str:
    error = job.error
    return error.message.splitlines()[0] if error is not None else ""


def _jobs_frame() -> pd.DataFrame:
    rows = [{"id": job_id, "state": job.state, "query": job.query.strip().splitlines()[0][:60],
             "events in": sum((job.last_sample.get("events_in") or {}).values()),
             "wall s": round(job.wall_seconds or 0.0, 2)}
            for job_id, job in SESSION.jobs.items()]
    return pd.DataFrame(rows, columns=["id", "state", "query", "events in", "wall s"])


def _dashboard_figure(rest: list[str]) -> Any:
    """The static charts of a job's dashboard so far (the latest job with one when no id is given)."""
    if len(rest) > 1 or rest and not rest[0].isdigit():
        raise ConfigError(f"%asanb dashboard takes one job id (see %asanb jobs), got {' '.join(rest)!r}")
    if not SESSION.dashboards:
        raise ConfigError("no job has a dashboard yet: run %%asaquery --dashboard with a query that calls an ML UDF")
    job_id = int(rest[0]) if rest else max(SESSION.dashboards)
    if job_id not in SESSION.dashboards:
        raise ConfigError(f"job {job_id} has no dashboard; jobs with one: {', '.join(map(str, SESSION.dashboards))}")
    return StaticFigure(SESSION.dashboards[job_id].snapshot())


def _stop_jobs(rest: list[str]) -> pd.DataFrame:
    if rest:
        try:
            ids = [int(word) for word in rest]
        except ValueError:
            raise ConfigError(f"%asanb stop takes job ids (see %asanb jobs), got {' '.join(rest)!r}") from None
        missing = [job_id for job_id in ids if job_id not in SESSION.jobs]
        if missing:
            raise ConfigError(f"no job {missing[0]}; jobs: {', '.join(map(str, SESSION.jobs)) or 'none'}")
        targets = {job_id: SESSION.jobs[job_id] for job_id in ids}
    else:
        targets = SESSION.running_jobs()
    for job in targets.values():
        job.stop(wait=True)
    return _jobs_frame()


def _configure(rest: list[str]) -> dict[str, Any]:
    settings = dict(SESSION.defaults)
    for word in rest:
        key, sep, value = word.partition("=")
        key = {"su": "streaming_units"}.get(key, key)
        if not sep or key not in DEFAULTS:
            raise ConfigError(f"%asanb config takes key=value with keys {', '.join(DEFAULTS)}; got {word!r}")
        try:
            settings[key] = _setting(key, value)
        except ValueError:
            raise ConfigError(f"%asanb config: {key} takes a number, got {value!r}") from None
    # Build a JobConfig so a bad clock or SU count is refused now, not in the next cell.
    JobConfig(streaming_units=int(settings["streaming_units"]), clock=settings["clock"],
              speed=float(settings["speed"]))
    SESSION.defaults.update(settings)
    return dict(SESSION.defaults)


def _setting(key: str, value: str) -> Any:
    if key == "streaming_units":
        return int(value)
    if key == "speed":
        return float(value)
    if key == "charts":
        if value not in CHART_MODES:
            raise ConfigError(f"%asanb config: charts is {', '.join(CHART_MODES)}; got {value!r}")
        return value
    if key == "dashboard":
        parsed = {"on": True, "true": True, "off": False, "false": False, "auto": "auto"}.get(value.lower())
        if parsed is None:
            raise ConfigError(f"%asanb config: dashboard is on, off or auto; got {value!r}")
        return parsed
    return value


def _dashboard_title(query: str) -> str:
    """Name a job by the outputs it writes (a query's first line is often just ``WITH x AS (``)."""
    outputs = list(dict.fromkeys(re.findall(r"\bINTO\s+(\[[^\]]+\]|\w+)", query, flags=re.IGNORECASE)))
    return f"job → {', '.join(outputs)}" if outputs else "job → output"
