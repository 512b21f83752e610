"""MLFunction: ASA's Azure Machine Learning Service function (endpoint, key, batch size, parallel requests),
and its ``Functions/<alias>.json`` form in an ASA project (../shared/spec/ml_udf.md §1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from asanb.errors import ConfigError

__all__ = ["BINDING_TYPE", "FunctionColumn", "MLFunction"]

BINDING_TYPE = "Microsoft.MachineLearningServices"
MAX_BATCH_COUNT = 10_000


@dataclass(frozen=True, slots=True)
class FunctionColumn:
    """One input (or output) column of the endpoint: name, Azure ML data type, and parameter position."""

    name: str
    data_type: str = "any"
    map_to: int = 0


@dataclass(frozen=True, slots=True)
class MLFunction:
    """An ML model endpoint called as ``udf.<alias>(...)``, with ASA's properties and defaults.

    Args:
        alias: the name used in the query.
        endpoint: the request-response scoring URL (http or https).
        api_key: sent as ``Authorization: Bearer <key>``; never shown in repr or errors.
        swagger: a swagger document, its file path or URL. Default: ``swagger.json`` next to the scoring
            path (``http://host/score`` → ``http://host/swagger.json``), where Azure ML endpoints serve it.
        max_batch_count: most events per request, 1..10000 (ASA default 1000).
        parallel_requests_per_partition: requests in flight per partition (ASA default 1).
        input_request_name / output_response_name: labels of the input and output objects; taken from the
            swagger when None.
        timeout: seconds per request attempt (retries have their own total budget in JobConfig).
    """

    alias: str
    endpoint: str
    api_key: str | None = field(default=None, repr=False)
    swagger: str | dict[str, Any] | None = field(default=None, repr=False)
    max_batch_count: int = 1000
    parallel_requests_per_partition: int = 1
    input_request_name: str | None = None
    output_response_name: str | None = None
    timeout: float = 60.0
    inputs: tuple[FunctionColumn, ...] = ()
    outputs: tuple[FunctionColumn, ...] = ()
    output_type: str = "any"

    def __post_init__(self) -> None:
        if not self.alias or not self.alias.replace("_", "a").isalnum():
            raise ConfigError(f"function alias {self.alias!r} must be letters, digits or underscores")
        scheme = urlsplit(self.endpoint).scheme
        if scheme not in ("http", "https"):
            raise ConfigError(f"udf.{self.alias}: endpoint must be an http(s) URL, got {self.endpoint!r}")
        if not 1 <= self.max_batch_count <= MAX_BATCH_COUNT:
            raise ConfigError(f"udf.{self.alias}: max_batch_count must be 1..{MAX_BATCH_COUNT}, "
                              f"got {self.max_batch_count}")
        if self.parallel_requests_per_partition < 1:
            raise ConfigError(f"udf.{self.alias}: parallel_requests_per_partition must be at least 1")
        if self.timeout <= 0:
            raise ConfigError(f"udf.{self.alias}: timeout must be positive seconds")

    @property
    def swagger_url(self) -> str:
        """Where the signature is read from when ``swagger`` is not given."""
        base, _, _ = self.endpoint.rstrip("/").rpartition("/")
        return f"{base}/swagger.json"

    def to_function_json(self) -> dict[str, Any]:
        """The ASA project's ``Functions/<alias>.json`` (a Scalar function with an Azure ML binding)."""
        binding: dict[str, Any] = {
            "type": BINDING_TYPE,
            "properties": {
                "endpoint": self.endpoint,
                "apiKey": self.api_key,
                "inputs": [{"name": c.name, "dataType": c.data_type, "mapTo": c.map_to} for c in self.inputs],
                "outputs": [{"name": c.name, "dataType": c.data_type, "mapTo": c.map_to} for c in self.outputs],
                "batchSize": self.max_batch_count,
                "numberOfParallelRequests": self.parallel_requests_per_partition,
                "inputRequestName": self.input_request_name,
                "outputResponseName": self.output_response_name,
            },
        }
        return {
            "name": self.alias,
            "type": "Microsoft.StreamAnalytics/streamingjobs/functions",
            "properties": {
                "type": "Scalar",
                "properties": {
                    "inputs": [{"dataType": c.data_type, "isConfigurationParameter": None} for c in self.inputs],
                    "output": {"dataType": self.output_type},
                    "binding": binding,
                },
            },
            "asanb": {"timeout": self.timeout},
        }

    @classmethod
    def from_function_json(cls, data: dict[str, Any], alias: str | None = None) -> MLFunction:
        """Read a function JSON written by ASA tools or by ``to_function_json``."""
        try:
            scalar = data["properties"]["properties"]
            binding = scalar["binding"]
            properties = binding["properties"]
        except (KeyError, TypeError) as error:
            raise ConfigError(f"function JSON lacks properties.properties.binding ({error})") from None
        if binding.get("type") != BINDING_TYPE:
            raise ConfigError(f"function JSON binding type {binding.get('type')!r} is not {BINDING_TYPE!r}")

        def columns(key: str) -> tuple[FunctionColumn, ...]:
            return tuple(FunctionColumn(c["name"], c.get("dataType", "any"), int(c.get("mapTo", 0)))
                         for c in properties.get(key) or ())

        return cls(
            alias=alias or data.get("name", ""),
            endpoint=properties.get("endpoint", ""),
            api_key=properties.get("apiKey"),
            max_batch_count=int(properties.get("batchSize") or 1000),
            parallel_requests_per_partition=int(properties.get("numberOfParallelRequests") or 1),
            input_request_name=properties.get("inputRequestName"),
            output_response_name=properties.get("outputResponseName"),
            timeout=float(data.get("asanb", {}).get("timeout", 60.0)),
            inputs=columns("inputs"),
            outputs=columns("outputs"),
            output_type=(scalar.get("output") or {}).get("dataType", "any"),
        )
