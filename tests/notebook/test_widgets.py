"""MLFunctionForm: setting widget values rebuilds the bound MLFunction (with ASA's ranges), the concurrency
line shows partitions × parallel requests, and Load signature / Test endpoint / Register work against the
real loopback scoring server or say why they could not."""

from __future__ import annotations

import asanb
from asanb import MLFunction
from asanb.notebook.registry import Registry
from asanb.notebook.widgets import MLFunctionForm
from asanb.udf.server import ScoringServer, ServerSettings


def test_widget_values_rebuild_the_function_within_asa_ranges() -> None:
    form = MLFunctionForm(MLFunction("score", "http://127.0.0.1:9/score"), registry=Registry())
    form.max_batch_count.value = 20_000
    form.parallel.value = 4
    form.streaming_units.value = 12
    form.alias.value = "fare"
    assert form.function == MLFunction("fare", "http://127.0.0.1:9/score", max_batch_count=10_000,
                                       parallel_requests_per_partition=4)
    assert "2 partitions × 4 parallel requests = <b>8</b>" in form.concurrency.value
    assert form.job_config().partitions == 2
    form.max_batch_count.value = 0
    assert form.function.max_batch_count == 1


def test_an_invalid_endpoint_keeps_the_last_good_function_and_says_why() -> None:
    form = MLFunctionForm(MLFunction("score", "http://127.0.0.1:9/score"), registry=Registry())
    form.endpoint.value = "ftp://model"
    assert not form.valid and "must be an http(s) URL" in form.status.value
    assert form.function.endpoint == "http://127.0.0.1:9/score"
    assert form.register() is None and "fix the fields" in form.status.value
    form.endpoint.value = "http://127.0.0.1:9/v2/score"
    assert form.valid and form.function.endpoint.endswith("/v2/score") and form.status.value == ""


def test_key_goes_to_the_function_but_never_into_its_repr() -> None:
    form = MLFunctionForm(registry=Registry())
    form.key.value = "s3cret"
    assert form.function.api_key == "s3cret" and "s3cret" not in repr(form.function)


def test_load_signature_test_endpoint_and_register_against_the_real_server() -> None:
    registry = Registry()
    with ScoringServer(ServerSettings(key="k1")) as server:
        form = MLFunctionForm(MLFunction("score", server.score_url, api_key="k1"), registry=registry)
        signature = form.load_signature()
        assert [c.name for c in signature.columns] == ["vendorid", "weekday", "pickuphour", "passenger", "distance"]
        assert "weekday" in form.signature_view.value and "nvarchar(max)" in form.signature_view.value
        outcome = form.test_endpoint()
        assert outcome["ok"] and outcome["status"] == 200 and outcome["latency_ms"] > 0
        assert server.stats()["requests"] == 1 and server.stats()["batch_sizes"] == [1]
        assert "HTTP 200" in form.test_view.value
        form.key.value = "wrong"
        failed = form.test_endpoint()
        assert not failed["ok"] and failed["status"] == 401 and "api_key" in failed["message"]
    registered = form.register()
    assert registry.functions["score"] is registered
    form.max_batch_count.value = 250  # a registered form keeps the registry in step
    assert registry.functions["score"].max_batch_count == 250


def test_an_unreachable_endpoint_is_reported_in_the_form() -> None:
    with ScoringServer(ServerSettings()) as server:
        url = server.score_url
    form = MLFunctionForm(MLFunction("score", url, timeout=5), registry=Registry())
    assert form.load_signature() is None
    assert "Cannot load the signature" in form.signature_view.value and "cannot fetch the swagger" in \
        form.signature_view.value
    outcome = form.test_endpoint()
    assert not outcome["ok"] and "signature could not be loaded" in form.test_view.value


def test_line_magic_shows_the_form(ip) -> None:
    form = ip.run_line_magic("asanb", "function --ml")
    assert isinstance(form, MLFunctionForm)
    form.endpoint.value = "http://127.0.0.1:9/score"
    form.register()
    assert "score" in ip.run_line_magic("asanb", "functions")["alias"].tolist()
    assert isinstance(asanb.notebook.registry.SESSION.functions["score"], MLFunction)


def test_tuning_buttons_measure_the_real_server_and_set_the_fields() -> None:
    with ScoringServer(ServerSettings(latency_ms=20)) as server:
        form = MLFunctionForm(MLFunction("score", server.score_url, max_batch_count=1000), registry=Registry())
        report = form.sweep_batch_sizes(sizes=(20, 100), repeats=1)
        assert report.recommended in (20, 100)
        assert form.max_batch_count.value == report.recommended == form.function.max_batch_count
        assert "Recommended max batch count" in form.tune_view.value and form.tune_report is report
        form.max_batch_count.value = 100
        form.streaming_units.value = 12
        form.target_rate.value = 20_000  # 200 requests/s of >= 20 ms each: at least 4 in flight, 2 per partition
        advice = form.advise_parallel_requests(repeats=1)
        assert advice.partitions == 2 and advice.recommended >= 2
        assert form.parallel.value == advice.recommended == form.function.parallel_requests_per_partition
        assert "Little&#x27;s law" in form.tune_view.value and form.tune_report is advice
        sizes = set(server.stats()["batch_sizes"])
    assert sizes == {20, 100}


def test_tuning_an_unreachable_endpoint_says_why_in_the_form() -> None:
    with ScoringServer(ServerSettings()) as server:
        url = server.score_url
    form = MLFunctionForm(MLFunction("score", url, timeout=5), registry=Registry())
    assert form.sweep_batch_sizes(sizes=(10,)) is None and "Sweep failed" in form.tune_view.value
    assert form.advise_parallel_requests() is None and "cannot fetch the swagger" in form.tune_view.value
    assert form.max_batch_count.value == 1000 and form.parallel.value == 1
