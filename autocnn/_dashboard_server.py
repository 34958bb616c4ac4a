"""The optuna-dashboard process ``autocnn dashboard`` starts: its WSGI app on a quiet stdlib server."""

from __future__ import annotations

import os
import sys
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

STORAGE_VARIABLE = "AUTOCNN_DASHBOARD_STORAGE"  # by environment: a password in a URL stays out of `ps`


class _QuietHandler(WSGIRequestHandler):
    """Leaves out the line per request (the dashboard polls every few seconds)."""

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


def main(arguments: list[str]) -> None:
    """Serve the dashboard of ``$AUTOCNN_DASHBOARD_STORAGE`` on ``host port`` until killed."""
    import optuna_dashboard

    host, port = arguments[0], int(arguments[1])
    app = optuna_dashboard.wsgi(os.environ[STORAGE_VARIABLE])
    with make_server(host, port, app, handler_class=_QuietHandler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
