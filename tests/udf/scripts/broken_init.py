"""A scoring script whose init() fails, as when a model file is missing."""


def init():
    raise FileNotFoundError("model.pkl not found in AZUREML_MODEL_DIR")


def run(raw_data):
    return []
