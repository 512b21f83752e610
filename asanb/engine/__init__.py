"""Logical plan to running operators over pandas micro-batches."""
