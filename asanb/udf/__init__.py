"""User-defined functions: ML endpoints, their dispatcher, and the local scoring server."""
