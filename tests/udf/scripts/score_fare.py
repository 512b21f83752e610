"""An Azure ML scoring script as users write them: init() loads a model, run() scores a batch, and the
inference-schema decorators give the swagger ASA reads for the function signature."""

import numpy as np
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

model = None

SAMPLE = pd.DataFrame({"vendorid": [1], "weekday": ["Mon"], "pickuphour": [8], "passenger": [1], "distance": [2.5]})


def init():
    global model
    # A fixed linear fare: base 2.5 + 1.75 per mile + 0.5 per extra passenger.
    model = {"base": 2.5, "per_mile": 1.75, "per_passenger": 0.5}


@input_schema("Inputs", StandardPythonParameterType({"data": PandasParameterType(SAMPLE)}))
@output_schema(StandardPythonParameterType({"Results": StandardPythonParameterType([7.0])}))
def run(Inputs):
    frame = Inputs["data"]
    fare = model["base"] + model["per_mile"] * frame["distance"] + model["per_passenger"] * (frame["passenger"] - 1)
    return {"Results": np.round(fare.astype(float), 4).tolist()}
