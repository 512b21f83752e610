"""A user's own Azure ML scoring script behind Microsoft's inference server on loopback, called from a query."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import asanb
from asanb import MLFunction
from asanb.errors import FunctionError
from asanb.io.simulated import TaxiStream
from asanb.udf.entry_script import EntryScriptServer
from asanb.udf.swagger import load_signature

SCRIPTS = Path(__file__).parent / "scripts"
QUERY = """
WITH Dataframe AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi)
SELECT distance, passenger, udf.fare(Dataframe) AS fare INTO scored FROM Dataframe
"""


@pytest.fixture(scope="module")
def fare_script():
    with EntryScriptServer(SCRIPTS / "score_fare.py") as server:
        yield server


def test_signature_comes_from_the_swagger_the_inference_server_generates(fare_script) -> None:
    signature = load_signature(MLFunction("fare", fare_script.score_url))
    assert signature.input_name == "data"
    assert [column.name for column in signature.columns] == ["vendorid", "weekday", "pickuphour", "passenger",
                                                              "distance"]


def test_a_query_scores_through_the_users_run_function(fare_script) -> None:
    frame = next(TaxiStream(rate=100, events=300, seed=5).batches(300))
    fare = MLFunction("fare", fare_script.score_url, max_batch_count=128)
    results = asanb.run(QUERY, {"taxi": frame}, functions=[fare])
    assert results.state == "Stopped", results.error
    out = results["scored"]
    expected = (2.5 + 1.75 * out["distance"] + 0.5 * (out["passenger"] - 1)).round(4)
    pd.testing.assert_series_equal(out["fare"].astype(float), expected, check_names=False)
    assert results.metrics["batch_size"].tolist() == [128, 128, 44]


def test_a_failing_init_is_reported_with_the_scripts_message() -> None:
    with pytest.raises(FunctionError) as caught:
        EntryScriptServer(SCRIPTS / "broken_init.py").start()
    assert "broken_init.py" in str(caught.value)
