"""The ``asanb`` command line: ``run`` a query over files, ``test`` an ASA project's test cases, ``export`` a
query as an ASA project with its ARM template, ``serve-model`` the local scoring server, ``demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asanb.config import JobConfig
from asanb.errors import AsanbError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        alias, sep, path = value.partition("=")
        if not sep or not alias or not path:
            raise SystemExit(f"asanb: {flag} takes alias=path, got {value!r}")
        pairs[alias] = path
    return pairs


def _run(args: argparse.Namespace) -> int:
    from asanb.io.sinks import write_json_lines
    from asanb.job import run

    query_path = Path(args.query)
    if not query_path.is_file():
        print(f"asanb: query file not found: {query_path}", file=sys.stderr)
        return EXIT_USAGE
    config = JobConfig(streaming_units=args.streaming_units, output_error_policy=args.output_error_policy)
    results = run(query_path.read_text(encoding="utf-8"), _pairs(args.input, "--input"),
                  reference=_pairs(args.reference, "--reference") or None, config=config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for alias, frame in results.outputs.items():
        rows = write_json_lines(frame, out / f"{alias}.json")
        print(f"{alias}: {rows} rows -> {out / f'{alias}.json'}")
    print(results.summary())
    return EXIT_OK if results.state != "Failed" else EXIT_FAILED


def _export(args: argparse.Namespace) -> int:
    import warnings

    from asanb.errors import ExportWarning
    from asanb.project import Project
    from asanb.project.export import export

    if (args.query is None) == (args.project is None):
        print("asanb export: give a .asaql query or --project asaproj.json (one of them)", file=sys.stderr)
        return EXIT_USAGE
    if args.project is not None:
        job: object = Project.load(args.project)
    else:
        query_path = Path(args.query)
        if not query_path.is_file():
            print(f"asanb: query file not found: {query_path}", file=sys.stderr)
            return EXIT_USAGE
        job = query_path.read_text(encoding="utf-8")
    config = JobConfig(streaming_units=args.streaming_units, output_error_policy=args.output_error_policy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)  # the summary below lists each one
        summary = export(job, args.out, _pairs(args.input, "--input"),
                         reference=_pairs(args.reference, "--reference"),
                         config=None if args.project else config, name=args.name)
    print(summary)
    return EXIT_OK


def _serve_model(argv: list[str]) -> int:
    if "--entry-script" in argv:
        # A user's own scoring script behind Microsoft's inference server (the `azureml` extra).
        from asanb.udf.entry_script import entry_script_main

        position = argv.index("--entry-script")
        script = argv[position + 1:position + 2]
        return entry_script_main(script + argv[:position] + argv[position + 2:])
    from asanb.udf.server import serve_model_main

    return serve_model_main(argv)


def _demo(args: argparse.Namespace) -> int:
    from asanb.demo import main as demo_main

    return demo_main(Path(args.out), events=args.events)


def _test(args: argparse.Namespace) -> int:
    from asanb.project.testing import test_command

    # Exit codes as azure-streamanalytics-cicd: 0 passed, -2 a case failed, -1 an exception (255/254 in a shell).
    return test_command(args.project, args.testConfigPath, args.outputPath)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asanb", description="Azure Stream Analytics queries, locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="run a .asaql query over local input files")
    run_cmd.add_argument("query", help="path of the .asaql query")
    run_cmd.add_argument("--input", action="append", default=[], metavar="ALIAS=PATH",
                         help="an input alias and its file (.json, .jsonl, .csv, .parquet) or sim: URL")
    run_cmd.add_argument("--reference", action="append", default=[], metavar="ALIAS=PATH")
    run_cmd.add_argument("--out", default="output", help="directory for one JSON-lines file per output")
    run_cmd.add_argument("--streaming-units", type=int, default=1)
    run_cmd.add_argument("--output-error-policy", choices=("Stop", "Drop"), default="Stop")
    test_cmd = commands.add_parser("test", help="run an ASA project's test/testConfig.json cases "
                                   "(azure-streamanalytics-cicd test); writes testResultSummary.json")
    test_cmd.add_argument("--project", required=True, help="asaproj.json or the folder holding it")
    test_cmd.add_argument("--testConfigPath", help="default: test/testConfig.json beside asaproj.json")
    test_cmd.add_argument("--outputPath", help="folder for testResultSummary.json and actual outputs "
                          "(default: the testConfig folder)")
    export_cmd = commands.add_parser("export", help="write a query (or re-write a project) as an ASA project "
                                     "with an ARM template (Deploy/<name>.JobTemplate.json + parameters)")
    export_cmd.add_argument("query", nargs="?", help="path of the .asaql query")
    export_cmd.add_argument("--project", help="an ASA project to re-export (asaproj.json or its folder)")
    export_cmd.add_argument("--out", required=True, help="the project folder to write")
    export_cmd.add_argument("--name", help="project and script name (default: the folder's name)")
    export_cmd.add_argument("--input", action="append", default=[], metavar="ALIAS=PATH")
    export_cmd.add_argument("--reference", action="append", default=[], metavar="ALIAS=PATH")
    export_cmd.add_argument("--streaming-units", type=int, default=1)
    export_cmd.add_argument("--output-error-policy", choices=("Stop", "Drop"), default="Stop")
    commands.add_parser("serve-model", help="serve the local Azure-ML-compatible scoring endpoint",
                        add_help=False)
    demo = commands.add_parser("demo", help="score the simulated taxi stream against the local model server")
    demo.add_argument("--out", default="demo-output")
    demo.add_argument("--events", type=int, default=20_000)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve-model"]:
        return _serve_model(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        handlers = {"run": _run, "test": _test, "export": _export, "demo": _demo}
        return handlers[args.command](args)
    except AsanbError as error:
        print(f"asanb: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED
