"""Progress of a run on a tqdm bar: rows predicted so far and, with ``tolerance``, the precision reached."""

from __future__ import annotations

import sys


class Progress:
    """A progress bar over the rows a run predicts, or nothing when ``enabled`` is False.

    ``enabled`` None shows the bar when stderr is a terminal. Use as a context manager, so the
    bar is closed however the run ends (Ctrl-C included).
    """

    def __init__(self, enabled: bool | None, total_rows: int, tolerance: float | None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._tolerance = tolerance
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total_rows, unit="rows", unit_scale=True, desc="pyimportance", leave=False)

    def rows(self, count: int) -> None:
        """``count`` more rows predicted."""
        if self._bar is not None:
            self._bar.update(count)

    def round(self, rows: int, precision: float | None) -> None:
        """A stopping decision after ``rows`` rows: the precision reached (None: not yet defined)."""
        if self._bar is not None and self._tolerance is not None:
            shown = "?" if precision is None else f"{precision:.3f}"
            self._bar.set_postfix_str(f"precision {shown} (target {self._tolerance:g}) after {rows} rows",
                                      refresh=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()
