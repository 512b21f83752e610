"""SAQL text to syntax tree: tokens, parser, printer and lint."""
