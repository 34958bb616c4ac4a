"""The report: rank the architectures of a study and show why the winner won.

:func:`write_report` turns a study's records into ``index.html`` (self-contained), ``report.md``
(for GitHub), ``leaderboard.csv`` and PNG plots; :func:`compare_studies` puts several studies
side by side.
"""

from autocnn.reporting._compare import compare_studies
from autocnn.reporting._report import write_report

__all__ = ["compare_studies", "write_report"]
