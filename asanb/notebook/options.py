"""The options of ``%%asaquery``: one declared parser, parsed into a frozen CellOptions; an unknown or
malformed option is a ConfigError that says what to type instead (never argparse's SystemExit)."""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
from dataclasses import dataclass, field

from asanb.errors import ConfigError

__all__ = ["USAGE", "CellOptions", "parse_options", "split_line"]

USAGE = ("%%asaquery [--input ALIAS=VARIABLE|PATH|sim:taxi?rate=N ...] [--timestamp-by [ALIAS=]COLUMN] "
         "[--duration SECONDS] [--limit EVENTS] [--clock replay|paced] [--speed X] [--su N] [-o NAME] "
         "[--background] [--dashboard|--no-dashboard] [--quiet] [--project asaproj.json]")


@dataclass(frozen=True, slots=True)
class CellOptions:
    """What the magic line asked for. ``dashboard`` is None when neither flag was given (decide by context)."""

    inputs: dict[str, str] = field(default_factory=dict)
    timestamp_by: dict[str, str] = field(default_factory=dict)
    duration_seconds: float | None = None
    limit_events: int | None = None
    clock: str | None = None
    speed: float | None = None
    streaming_units: int | None = None
    out: str | None = None
    background: bool = False
    dashboard: bool | None = None
    quiet: bool = False
    project: str | None = None  # an ASA project: its script (for an empty cell), inputs, functions, JobConfig


class _Parser(argparse.ArgumentParser):
    """argparse that raises ConfigError instead of printing usage and exiting the kernel."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(f"%%asaquery: {message}. Usage: {USAGE}")


def _build_parser() -> _Parser:
    parser = _Parser(prog="%%asaquery", add_help=False, allow_abbrev=False)
    parser.add_argument("--input", "-i", action="append", default=[], metavar="ALIAS=SOURCE")
    parser.add_argument("--timestamp-by", action="append", default=[], metavar="[ALIAS=]COLUMN")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--clock", choices=("replay", "paced"), default=None)
    parser.add_argument("--speed", type=float, default=None)
    parser.add_argument("--su", "--streaming-units", dest="streaming_units", type=int, default=None)
    parser.add_argument("-o", "--out", default=None)
    parser.add_argument("--background", action="store_true")
    parser.add_argument("--dashboard", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--project", default=None, metavar="ASAPROJ_JSON")
    return parser


_PARSER = _build_parser()
_KNOWN = [option for action in _PARSER._actions for option in action.option_strings]


def _pairs(values: list[str], what: str, allow_bare: bool) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        alias, sep, target = value.partition("=")
        if not sep:
            if not allow_bare:
                raise ConfigError(f"%%asaquery: --{what} takes ALIAS=SOURCE, got {value!r} "
                                  f"(e.g. --{what} input=events_df or --{what} input=sim:taxi?rate=100)")
            alias, target = "", value
        if sep and (not alias.strip() or not target.strip()):
            raise ConfigError(f"%%asaquery: --{what} {value!r} needs a name on both sides of '='")
        pairs[alias.strip()] = target.strip()
    return pairs


def parse_options(line: str) -> CellOptions:
    """Parse the text after ``%%asaquery``."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise ConfigError(f"%%asaquery: cannot split the options ({error}); quote values with spaces") from None
    for word in words:
        if word.startswith("-") and word.split("=")[0] not in _KNOWN and not _is_number(word):
            close = difflib.get_close_matches(word.split("=")[0], _KNOWN, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"%%asaquery: unknown option {word!r}{hint} Usage: {USAGE}")
    args = _PARSER.parse_args(words)
    numbers = {"--duration": args.duration, "--speed": args.speed}
    for name, value in numbers.items():
        if value is not None and value <= 0:
            raise ConfigError(f"%%asaquery: {name} must be a positive number of seconds, got {value:g}")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"%%asaquery: --limit must be at least 1 event, got {args.limit}")
    if args.speed is not None and args.clock == "replay":
        raise ConfigError("%%asaquery: --speed only applies to --clock paced (replay runs as fast as it can)")
    if args.out is not None and not args.out.isidentifier():
        raise ConfigError(f"%%asaquery: -o takes a Python variable name, got {args.out!r}")
    return CellOptions(
        inputs=_pairs(args.input, "input", allow_bare=False),
        timestamp_by=_pairs(args.timestamp_by, "timestamp-by", allow_bare=True),
        duration_seconds=args.duration, limit_events=args.limit,
        clock="paced" if args.speed is not None and args.clock is None else args.clock,
        speed=args.speed, streaming_units=args.streaming_units, out=args.out, background=args.background,
        dashboard=args.dashboard, quiet=args.quiet, project=args.project,
    )


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


_QUERY_START = re.compile(r"(?:^|\s)(?=(?:SELECT|WITH)\s)", re.IGNORECASE)


def split_line(line: str) -> tuple[str, str]:
    """``%asaquery`` on one line: (the options, the query starting at the first SELECT or WITH)."""
    match = _QUERY_START.search(line)
    if match is None and "--project" in line:
        return line.strip(), ""  # the project's own script runs
    if match is None:
        raise ConfigError("%asaquery takes options, then a query starting with SELECT or WITH, e.g. "
                          "%asaquery -o res SELECT speed INTO fast FROM events WHERE speed > 100 "
                          "(use %%asaquery for a query over several lines)")
    return line[:match.start()].strip(), line[match.end():].strip()
