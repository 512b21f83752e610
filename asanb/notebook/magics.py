"""``%%asaquery``: run the cell's SAQL with asanb.run; inputs come from ``--input`` or from DataFrames of the
same name in the user namespace; ``{var}`` is substituted from the namespace; errors show without traceback."""

from __future__ import annotations

import shlex
import string
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import HTML, display

import asanb
from asanb import AsanbError, JobConfig

_FUNCTIONS: dict[str, Any] = {}


def register_function(function: Any) -> None:
    """Make a function (MLFunction, PythonFunction) available to every %%asaquery cell."""
    _FUNCTIONS[function.alias.lower()] = function


class _Formatter(string.Formatter):
    """Substitute ``{name}`` from the namespace; leave unknown or non-identifier braces untouched."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def substitute(self, text: str) -> str:
        out = []
        for literal, field, spec, conversion in self.parse(text):
            out.append(literal)
            if field is None:
                continue
            if field.isidentifier() and field in self.namespace:
                out.append(format(self.namespace[field], spec or ""))
            else:
                out.append("{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
        return "".join(out)


def _parse_options(line: str) -> dict[str, Any]:
    options: dict[str, Any] = {"inputs": {}, "out": None, "streaming_units": None, "limit": None, "quiet": False}
    words = shlex.split(line)
    index = 0
    while index < len(words):
        word = words[index]
        value = words[index + 1] if index + 1 < len(words) else None
        if word == "--input" and value:
            alias, _, source = value.partition("=")
            options["inputs"][alias] = source
            index += 2
        elif word in ("-o", "--out") and value:
            options["out"] = value
            index += 2
        elif word in ("--streaming-units", "--su") and value:
            options["streaming_units"] = int(value)
            index += 2
        elif word == "--limit" and value:
            options["limit"] = int(value)
            index += 2
        elif word == "--quiet":
            options["quiet"] = True
            index += 1
        else:
            raise asanb.ConfigError(f"%%asaquery: unknown option {word!r}; options: --input alias=source, "
                                    "-o NAME, --streaming-units N, --limit N, --quiet")
    return options


@magics_class
class AsaMagics(Magics):
    """The asanb magics."""

    @cell_magic
    def asaquery(self, line: str, cell: str) -> Any:
        """Run the cell's query. ``%%asaquery --input input=df -o results``."""
        namespace = self.shell.user_ns
        try:
            options = _parse_options(line)
            query = _Formatter(namespace).substitute(cell)
            inputs = self._inputs(query, options["inputs"], namespace)
            config = JobConfig(streaming_units=options["streaming_units"] or 1, limit_events=options["limit"])
            results = asanb.run(query, inputs, functions=list(_FUNCTIONS.values()), config=config)
        except AsanbError as error:
            # The message names the place (with a caret under the query line); a traceback would only hide it.
            print(f"{type(error).__name__}: {error}")  # noqa: T201
            return None
        if options["out"]:
            namespace[options["out"]] = results
        if not options["quiet"]:
            for alias, frame in results.outputs.items():
                display(HTML(f"<b>{alias}</b>: {len(frame):,} rows"), frame)
            print(results.summary())  # noqa: T201
        return None

    def _inputs(self, query: str, given: dict[str, str], namespace: dict[str, Any]) -> dict[str, Any]:
        from asanb.sql.parser import parse

        inputs: dict[str, Any] = {}
        for alias, source in given.items():
            inputs[alias] = namespace.get(source, source)
        tree = parse(query)
        steps = {step.name.lower() for step in tree.steps}
        for name in _source_names(tree):
            if name.lower() in steps or any(alias.lower() == name.lower() for alias in inputs):
                continue
            value = namespace.get(name)
            if value is not None:
                inputs[name] = value
        return inputs

    @line_magic
    def asanb(self, line: str) -> Any:
        """``%asanb functions``: list the registered functions."""
        if line.strip() == "functions":
            return {alias: type(f).__name__ for alias, f in _FUNCTIONS.items()}
        print("usage: %asanb functions")  # noqa: T201
        return None


def _source_names(tree: Any) -> list[str]:
    from asanb.sql import ast
    from asanb.sql.tree import walk

    return [node.name for node in walk(tree) if isinstance(node, ast.Source)]
