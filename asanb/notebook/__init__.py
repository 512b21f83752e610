"""The Jupyter layer: magics, widgets and dashboards over the public API."""
