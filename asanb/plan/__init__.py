"""Syntax tree to logical plan: catalog, scopes, planner and rewrites."""
