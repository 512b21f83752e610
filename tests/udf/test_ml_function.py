"""MLFunction properties, their ASA function JSON, and the signature read from the endpoint's swagger."""

from __future__ import annotations

import json

import httpx
import pytest

from asanb.errors import ConfigError, FunctionError, PlanError, Span
from asanb.udf.ml import FunctionColumn, MLFunction
from asanb.udf.swagger import check_arguments, load_signature

SPAN = Span(1, 8, 7, 20)


def test_function_json_round_trips_every_property() -> None:
    function = MLFunction("score", "https://example.org/score", api_key="k", max_batch_count=250,
                          parallel_requests_per_partition=4, input_request_name="WebServiceInput0",
                          output_response_name="WebServiceOutput0", timeout=12.5,
                          inputs=(FunctionColumn("a", "bigint", 0), FunctionColumn("b", "float", 0)),
                          outputs=(FunctionColumn("fare", "float", 0),), output_type="float")
    document = json.loads(json.dumps(function.to_function_json()))
    assert document["properties"]["properties"]["binding"]["properties"]["batchSize"] == 250
    assert MLFunction.from_function_json(document) == function


def test_api_key_never_shows_in_repr() -> None:
    assert "s3cret" not in repr(MLFunction("score", "http://h/score", api_key="s3cret"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"endpoint": "ftp://h/score"}, "http"), ({"max_batch_count": 0}, "1..10000"),
    ({"max_batch_count": 10001}, "1..10000"), ({"parallel_requests_per_partition": 0}, "at least 1"),
])
def test_bad_properties_are_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MLFunction(**{"alias": "score", "endpoint": "http://h/score", **kwargs})


def test_signature_from_the_servers_swagger(scoring_server_factory) -> None:
    server = scoring_server_factory(input_name="WebServiceInput0")
    signature = load_signature(MLFunction("score", server.score_url))
    assert signature.input_name == "WebServiceInput0"
    assert [(c.name, c.data_type) for c in signature.columns] == [
        ("vendorid", "bigint"), ("weekday", "nvarchar(max)"), ("pickuphour", "bigint"), ("passenger", "bigint"),
        ("distance", "float")]


def test_missing_swagger_explains_how_to_fix_the_scoring_script(scoring_server) -> None:
    function = MLFunction("score", scoring_server.score_url, swagger=f"{scoring_server.url}/nothing.json")
    with pytest.raises(FunctionError, match=r"HTTP 404.*sample input and output schemas"):
        load_signature(function)


def test_swagger_that_is_not_json_or_lacks_inputs(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("<html>")
    with pytest.raises(FunctionError, match="not JSON"):
        load_signature(MLFunction("score", "http://h/score", swagger=str(bad)))
    with pytest.raises(FunctionError, match="no ServiceInput"):
        load_signature(MLFunction("score", "http://h/score", swagger={"definitions": {}}))


def test_unreachable_swagger_is_a_function_error() -> None:
    with pytest.raises(FunctionError, match="cannot fetch"):
        load_signature(MLFunction("score", "http://127.0.0.1:9/score", timeout=1))


def test_call_arity_is_checked_against_the_signature(scoring_server) -> None:
    signature = load_signature(MLFunction("score", scoring_server.score_url))
    check_arguments(signature, "score", ["record"], SPAN)
    check_arguments(signature, "score", ["any"] * 5, SPAN)
    with pytest.raises(PlanError, match=r"5 values \(vendorid, weekday") as caught:
        check_arguments(signature, "score", ["any"] * 3, SPAN)
    assert caught.value.span == SPAN
    assert httpx.get(scoring_server.swagger_url).status_code == 200
