"""Event sources (DataFrames, files, simulated streams) and output sinks."""
