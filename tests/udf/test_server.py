"""The local scoring server over real loopback HTTP: scoring, auth, schema errors, faults, stats, swagger."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from asanb.udf.model import SchemaMismatch, TaxiFareModel
from asanb.udf.server import serve_model_main

ROW = ["1", "Mon", "12", "1", "5.8"]
RECORD = {"vendorid": 1, "weekday": "Mon", "pickuphour": 12, "passenger": 1, "distance": 5.8}


def body(rows: list) -> dict:
    return {"Inputs": {"data": rows}}


def test_scores_arrays_records_and_string_values_alike(scoring_server) -> None:
    response = httpx.post(scoring_server.score_url, json=body([ROW, RECORD, [1, "Mon", 12, 1, 5.8]]))
    assert response.status_code == 200
    first, second, third = response.json()
    assert first == second == third
    assert first == TaxiFareModel(seed=0).predict_rows([RECORD])[0]


def test_longer_trips_cost_more(scoring_server) -> None:
    short, long = httpx.post(scoring_server.score_url,
                             json=body([[1, "Mon", 12, 1, 1.0], [1, "Mon", 12, 1, 20.0]])).json()
    assert long > short + 20


@pytest.mark.parametrize(("header", "status"), [(None, 401), ("Bearer wrong", 401), ("Bearer s3cret", 200)])
def test_key_auth(scoring_server_factory, header, status) -> None:
    server = scoring_server_factory(key="s3cret")
    headers = {"Authorization": header} if header else {}
    response = httpx.post(server.score_url, json=body([ROW]), headers=headers)
    assert response.status_code == status
    if status == 401:
        assert "Bearer" in response.json()["message"] and "s3cret" not in response.text


@pytest.mark.parametrize(("rows", "fragment"), [
    ([["1", "Mon"]], "row 0: expected 5 values"),
    ([RECORD, {"vendorid": 1}], "row 1: missing field 'weekday'"),
    ([["x", "Mon", 1, 1, 1.0]], "row 0: field 'vendorid' must be a number"),
    ([[1, "Someday", 1, 1, 1.0]], "field 'weekday' must be one of"),
])
def test_schema_mismatch_is_400_naming_row_and_field(scoring_server, rows, fragment) -> None:
    response = httpx.post(scoring_server.score_url, json=body(rows))
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_malformed_json_is_400(scoring_server) -> None:
    response = httpx.post(scoring_server.score_url, content=b"{not json")
    assert response.status_code == 400 and "malformed JSON" in response.text


def test_fail_pattern_then_success_and_stats(scoring_server_factory) -> None:
    server = scoring_server_factory(fail_pattern=(503, 409))
    statuses = [httpx.post(server.score_url, json=body([ROW])).status_code for _ in range(3)]
    assert statuses == [503, 409, 200]
    stats = server.stats()
    assert stats["status_counts"] == {"503": 1, "409": 1, "200": 1}
    assert stats["requests"] == 3 and stats["rows"] == 1


def test_fail_rate_is_seeded(scoring_server_factory) -> None:
    server = scoring_server_factory(fail_rate=0.5, seed=3)
    statuses = [httpx.post(server.score_url, json=body([ROW])).status_code for _ in range(40)]
    assert 8 < statuses.count(503) < 32 and statuses.count(200) + statuses.count(503) == 40


def test_peak_concurrency_is_observed_and_capped(scoring_server_factory) -> None:
    server = scoring_server_factory(latency_ms=100, max_concurrency=3)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=10)) as client:
            responses = await asyncio.gather(*(client.post(server.score_url, json=body([ROW])) for _ in range(5)))
        return sorted(r.status_code for r in responses)

    statuses = asyncio.run(burst())
    assert statuses == [200, 200, 200, 503, 503]
    # Two requests were refused, so more than the cap of 3 were in flight at once.
    assert server.stats()["peak_concurrency"] >= 4


def test_configure_changes_faults_while_running(scoring_server) -> None:
    scoring_server.configure(fail_rate=1.0, fail_status=500)
    assert httpx.post(scoring_server.score_url, json=body([ROW])).status_code == 500
    scoring_server.configure(fail_rate=0.0)
    assert httpx.post(scoring_server.score_url, json=body([ROW])).status_code == 200


def test_swagger_describes_input_name_columns_and_types(scoring_server_factory) -> None:
    server = scoring_server_factory(input_name="WebServiceInput0")
    document = httpx.get(server.swagger_url).json()
    service_input = document["definitions"]["ServiceInput"]
    row = service_input["properties"]["Inputs"]["properties"]["WebServiceInput0"]["items"]
    assert list(row["properties"]) == ["vendorid", "weekday", "pickuphour", "passenger", "distance"]
    assert row["properties"]["weekday"]["type"] == "string"
    assert service_input["example"]["Inputs"]["WebServiceInput0"][0]["weekday"] == "Mon"


def test_results_response_shape(scoring_server_factory) -> None:
    server = scoring_server_factory(response_shape="results")
    assert list(httpx.post(server.score_url, json=body([ROW])).json()["Results"]) == ["WebServiceOutput0"]


def test_model_is_deterministic_and_rejects_nulls() -> None:
    assert TaxiFareModel(seed=1).predict_rows([RECORD]) == TaxiFareModel(seed=1).predict_rows([RECORD])
    with pytest.raises(SchemaMismatch, match="'distance' is null"):
        TaxiFareModel().predict_rows([[1, "Mon", 1, 1, None]])


def test_cli_rejects_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        serve_model_main(["--port", "not-a-port"])
