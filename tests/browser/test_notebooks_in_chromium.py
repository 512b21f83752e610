"""The notebooks in a real browser: JupyterLab in headless chromium runs every cell of 01-quickstart, and a
dashboard notebook whose background job is watched and stopped from the page, with no JavaScript errors.

What nbval cannot see is checked here: the widget form and the live dashboard render (ipywidgets, anywidget and
plotly's JupyterLab extensions load), the FigureWidget's data grows while the job runs, the Stop button reaches
the kernel, and the outputs of %%asaquery (tables, plotly charts) render. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
Lab = Any  # the `lab` fixture (conftest.py): .url(path), .root
Console = Any  # the `page` fixture's console: .errors

# Every code cell shows an execution count ([n]:), none is queued or running ([*]:).
ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""

KERNEL_IDLE = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session
        && widget.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""

# The batch-size histogram holds one value per request so far (the other traces are binned in time).
DASHBOARD_REQUESTS = """() => {
    const plot = document.querySelector('.asanb-dashboard .js-plotly-plot');
    return plot && plot.data && plot.data[7] && plot.data[7].x ? plot.data[7].x.length : 0;
}"""


NOTEBOOK_IS_CURRENT = """(name) => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return !!widget && !!widget.context && widget.context.path === name;
}"""


def _open(page: Any, lab: Lab, name: str) -> None:
    """Open ``name`` in a workspace of its own (reset), so no other notebook is restored next to it and the
    Run menu acts on this one."""
    page.goto(lab.url(f"/lab/workspaces/{name.removesuffix('.ipynb')}/tree/{name}") + "&reset")
    page.wait_for_function(NOTEBOOK_IS_CURRENT, arg=name)
    page.wait_for_function(KERNEL_IDLE)


def _run_all(page: Any) -> None:
    """Run > Run All Cells, from the menu bar, as a reader would."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(ALL_CELLS_RAN, timeout=90_000)


def _no_errors(page: Any, console: Console) -> None:
    tracebacks = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                              has_text="Traceback")
    assert tracebacks.count() == 0, tracebacks.first.inner_text()
    assert console.errors == [], "\n".join(console.errors)


def test_quickstart_runs_top_to_bottom_and_renders_its_tables_and_chart(lab: Lab, page: tuple[Any, Console]) -> None:
    browser, console = page
    _open(browser, lab, "01-quickstart.ipynb")
    browser.evaluate("() => window.jupyterapp.commands.execute('editmenu:clear-all')")
    assert browser.locator(".jp-OutputArea-output table.dataframe").count() == 0  # the saved outputs are gone
    _run_all(browser)
    browser.wait_for_function(KERNEL_IDLE)

    # The %%asaquery cell: its output header, the result table and the one-line job summary.
    browser.locator(".jp-OutputArea-output", has_text="heavyVehicles 4 rows").first.wait_for()
    summary = browser.locator(".jp-OutputArea-output[data-mime-type='text/html']", has_text="heavyVehicles=4")
    assert "Stopped" in summary.first.inner_text()
    assert browser.locator(".jp-OutputArea-output table.dataframe").count() >= 4
    # The plotly chart, drawn by plotly's JupyterLab renderer: one bar per make and window.
    browser.wait_for_function("() => document.querySelectorAll('.js-plotly-plot g.point').length > 0")
    assert browser.evaluate("() => document.querySelector('.js-plotly-plot').data.length") >= 2
    chart = browser.locator(".js-plotly-plot >> visible=true").first
    # The syntax error cell shows the caret under the mistake.
    assert browser.locator(".jp-OutputArea-output", has_text="TumblingWindow(second 10)").count() == 1
    _no_errors(browser, console)
    ARTIFACTS.mkdir(exist_ok=True)
    chart.screenshot(path=str(ARTIFACTS / "01-quickstart-chart.png"))


DASHBOARD_CELLS = [
    """import atexit

import asanb
from asanb.notebook import register_function
from asanb.udf.server import ScoringServer

%load_ext asanb
server = ScoringServer(port=0, latency_ms=2).start()
atexit.register(server.stop)  # the kernel's shutdown stops it; the background job below still needs it
score = register_function(asanb.MLFunction("score", server.score_url, max_batch_count=50))
endless = "sim:taxi?events=1000000&rate=100&seed=7"  # hours at real speed: only the Stop button ends it
print("endpoint:", server.score_url)""",
    "%asanb function --ml",
    """%%asaquery --background --dashboard --clock paced --speed 1 --input taxi={endless} -o job
WITH Dataframe AS (
    SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi TIMESTAMP BY pickup_time
)
SELECT udf.score(Dataframe) AS predictedFare INTO scored FROM Dataframe""",
]


def test_dashboard_grows_while_the_job_runs_and_stop_ends_it(lab: Lab, page: tuple[Any, Console]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in DASHBOARD_CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, lab.root / "browser-dashboard.ipynb")
    browser, console = page
    _open(browser, lab, "browser-dashboard.ipynb")
    _run_all(browser)

    # The background job's dashboard: its chart grows while requests are answered, then Stop ends the job.
    dashboard = browser.locator(".asanb-dashboard")
    dashboard.wait_for()
    browser.wait_for_function(f"() => ({DASHBOARD_REQUESTS})() > 0")
    first = browser.evaluate(DASHBOARD_REQUESTS)
    browser.wait_for_function(f"() => ({DASHBOARD_REQUESTS})() > {first}")
    badge = dashboard.locator(".asanb-dashboard-state")
    badge.get_by_text("Running").wait_for()  # the first micro-batch is through; the paced clock waits for more
    dashboard.get_by_role("button", name="Stop").click()
    badge.get_by_text("Stopped").wait_for()
    assert dashboard.get_by_role("button", name="Stopped").is_disabled()

    # The ML function form (%asanb function --ml) is a live widget: Load signature asks the kernel, which
    # fetches the endpoint's swagger, and the model's input columns come back into the page.
    endpoint = browser.locator(".jp-OutputArea-output", has_text="endpoint: http://127.0.0.1:").first.inner_text()
    form = browser.locator(".asanb-ml-function-form")
    field = form.locator(".widget-text", has_text="Endpoint").locator("input")
    field.fill(endpoint.split("endpoint:")[1].strip())
    field.press("Enter")
    form.get_by_role("button", name="Load signature").click()
    form.get_by_text("pickuphour").first.wait_for()

    ARTIFACTS.mkdir(exist_ok=True)
    dashboard.screenshot(path=str(ARTIFACTS / "dashboard-stopped.png"))
    _no_errors(browser, console)
