"""Issue #2's bad-input list through asanb.run: each mistake is an AsanbError (or a Failed job) whose message
names the place in the query and shows the line with a caret, never a traceback from deep inside."""

from __future__ import annotations

import pandas as pd
import pytest

import asanb

EVENTS = pd.DataFrame({"time": ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"], "v": [1, 2], "s": ["a", "b"]})

RAISED = [
    ("SELECT v INTO o FROM nope", "unknown input or step 'nope'", "nope"),
    ("SELECT vv INTO o FROM input", "unknown column 'vv'", "vv"),
    ("SELECT FOO(v) INTO o FROM input", "unknown function 'foo'", "FOO(v)"),
    ("SELECT udf.foo(v) INTO o FROM input", "unknown function 'udf.foo'", "udf.foo(v)"),
    ("SELECT ABS(v, 2) AS a INTO o FROM input", "takes 1 argument, got 2", "ABS(v, 2)"),
    ("SELECT COUNT(*) AS n INTO o FROM input", "need a window", None),
    ("SELECT v INTO o FROM input\nSELECT s INTO o FROM input", "written by two statements", None),
    ("SELECT v INTO o FROM input WHERE", "expected an expression", None),
]


@pytest.mark.parametrize(("query", "message", "marked"), RAISED, ids=[case[1] for case in RAISED])
def test_query_mistakes_are_errors_with_a_caret(query: str, message: str, marked: str | None) -> None:
    with pytest.raises(asanb.QueryError) as caught:
        asanb.run(query, {"input": EVENTS})
    text = str(caught.value)
    assert message in text
    caret_line = text.splitlines()[-1]
    assert "^" in caret_line, text
    if marked is not None:
        source_line = text.splitlines()[-2]
        start = caret_line.index("^")
        assert source_line[start:start + len(marked)] == marked, text


@pytest.mark.parametrize(("query", "message"), [
    ("SELECT v + s AS x INTO o FROM input", "cannot apply '+' to bigint and nvarchar(max) in 'v + s'"),
    ("SELECT v INTO o FROM input TIMESTAMP BY v", "TIMESTAMP BY needs a datetime"),
])
def test_event_mistakes_fail_the_job_naming_the_place(query: str, message: str) -> None:
    results = asanb.run(query, {"input": EVENTS})
    assert results.state == "Failed"
    assert message in str(results.error) and "line 1, column" in str(results.error)
