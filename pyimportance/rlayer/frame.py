"""The result as R's data frame, built generically from :meth:`ImportanceResult.to_frame`:
integer positions become 1-based, text character, floats double, so new engine columns flow
through; attributes ``importances``, ``settings`` (under R argument names; ``estimator`` names the
estimator), ``baseline_score``, the rows/repeats used, the stopping rule's outcome, the summary lines R
prints as the header, and whatever numbers the estimator reports beside the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import terms
from ..data.units import ALL_FEATURES
from ..result import ImportanceResult
from ..stats.intervals import CONFIDENCE, INTERVAL_MEANINGS, interval_text
from .row_frame import map_attributes, row_attributes
from .values import EXACT_DOUBLE_MAX, INT32_MAX, RValue, r_vector

# Integer columns of the engine's frame that hold 0-based positions (1-based in R).
POSITION_COLUMNS = ("timestep", "output")


def _column(name: str, values) -> RValue:
    """One column of the engine's frame for R: 1-based positions, character, double, logical."""
    import pandas as pd

    series = pd.Series(values)
    missing = series.isna().to_numpy()
    kind = series.dtype.kind
    if name in POSITION_COLUMNS and kind in "iuf":
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        codes = np.where(missing, 0, numbers + 1)
        return RValue("integer", values=codes.astype(np.int32), na=missing)
    if kind == "b":
        return RValue("logical", values=series.to_numpy(dtype=bool))
    if kind in "iu":
        numbers = series.to_numpy()
        if np.abs(numbers).max(initial=0) <= INT32_MAX:
            return RValue("integer", values=numbers.astype(np.int32))
        return RValue("double", values=numbers.astype(np.float64))
    if kind == "f":
        return RValue("double", values=series.to_numpy(dtype=np.float64))
    text = np.array(["" if gone else str(item) for item, gone in zip(series, missing)], dtype=str)
    return RValue("character", values=text, na=missing)


def unit_label(feature: str, timestep: int | None) -> str:
    """A unit's R label: ``"x1"`` (feature or group), ``"t3"`` (time step), ``"x1@t3"`` (cell); 1-based."""
    if timestep is None:
        return feature
    if feature == ALL_FEATURES:
        return f"t{timestep}"
    return f"{feature}@t{timestep}"


def as_r_setting(value) -> RValue:
    """A setting (a Python value) as an R value; whole numbers too large for R stay exact as text."""
    if value is None:
        return RValue("NULL")
    if isinstance(value, RValue):
        return value
    if isinstance(value, Mapping):
        items = tuple(as_r_setting(item) for item in value.values())
        return RValue("list", names=tuple(str(key) for key in value), items=items)
    if isinstance(value, (bool, np.bool_)):
        return RValue("logical", values=np.array([bool(value)]))
    if isinstance(value, (int, np.integer)):
        number = int(value)
        if abs(number) <= INT32_MAX:
            return RValue("integer", values=np.array([number], dtype=np.int32))
        if abs(number) <= EXACT_DOUBLE_MAX:
            return RValue("double", values=np.array([float(number)]))
        return RValue("character", values=np.array([str(number)]))
    if isinstance(value, (float, np.floating)):
        return RValue("double", values=np.array([float(value)]))
    if isinstance(value, str):
        return RValue("character", values=np.array([value]))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return r_vector(value)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(item, str) for item in value):
            return RValue("character", values=np.array(value, dtype=str))
        if value and all(isinstance(item, (int, np.integer)) and not isinstance(item, bool) for item in value):
            return r_vector(np.array(value, dtype=np.int64).astype(np.int32)
                            if max(abs(int(v)) for v in value) <= INT32_MAX else np.array(value, dtype=np.float64))
        if value and all(isinstance(item, (float, int, np.number)) and not isinstance(item, bool) for item in value):
            return RValue("double", values=np.array(value, dtype=np.float64))
        if not value:
            return RValue("character", values=np.array([], dtype=str))
        return RValue("list", items=tuple(as_r_setting(item) for item in value))
    return RValue("character", values=np.array([str(value)]))


def settings_list(settings: Mapping[str, Any], classes=None) -> RValue:
    """The engine's settings as an R list under R argument names (``seed``), plus ``classes``."""
    renamed = {terms.R.name_of(key): value for key, value in settings.items()}
    if classes is not None:
        renamed["classes"] = (
            {key: (None if levels is None else list(levels)) for key, levels in classes.items()}
            if isinstance(classes, Mapping)
            else [None if levels is None else list(levels) for levels in classes]
            if isinstance(classes, list)
            else list(classes)
        )
    return as_r_setting(renamed)


def interval_description(result: ImportanceResult) -> dict[str, str]:
    """The interval a result reports: its kind, the summary's words for it, and what it covers."""
    kind = result.intervals.method
    return {"kind": kind,
            "text": interval_text(kind, result.intervals.block_size, result.settings.get("ci_note")),
            "meaning": INTERVAL_MEANINGS.get(kind, INTERVAL_MEANINGS["none"])}


def result_frame(result: ImportanceResult, classes=None) -> RValue:
    """The R data frame of a result: the columns of ``to_frame()``, sorted, with its attributes.

    One row per unit (and per output with ``per_output``), by decreasing importance (ties keep
    the engine's order). Attributes: ``importances`` (rows x repeats, rows in the frame's
    order, named by unit: ``"x1"``, ``"t3"``, ``"x1@t3"``, with ``"[output]"`` appended per
    output), ``settings``, ``baseline_score`` (one per output), ``n_rows_used``,
    ``n_repeats_used``, ``converged`` and ``precision`` (NA without ``tolerance``), ``summary``
    (the lines of :meth:`ImportanceResult.summary`, in R's terms: what R prints as the header),
    ``confidence`` (the level of ``ci_low``/``ci_high``), ``interval`` (the interval the run reports:
    ``kind`` "data", "repeats" or "none", ``text`` as in the summary's ``Interval:`` line, ``meaning``
    a sentence for a report: :mod:`pyimportance.stats.intervals` words all three), ``unit_position`` (each row's 1-based
    position in the engine's order: unit by unit, outputs within a unit), ``row_importances`` or ``row_note``
    (:mod:`.row_frame`), one double vector per entry of :meth:`ImportanceResult.extra_numbers` (a Shapley
    result's ``total``, ``total_ci_low``, ``total_ci_high``: one per output) under its name;
    class ``c("pyimportance_result", "data.frame")``.
    """
    frame = result.to_frame(sort=False)  # unit by unit, outputs within a unit
    order = np.argsort(-frame["importance"].to_numpy(dtype=np.float64), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    names = tuple(str(name) for name in frame.columns)
    columns = tuple(_column(name, frame[name]) for name in names)
    steps = columns[names.index("timestep")] if "timestep" in names else None
    labels = [
        unit_label(str(feature), None if steps is None or (steps.na is not None and steps.na[i])
                   else int(steps.values[i]))
        for i, feature in enumerate(frame["feature"])
    ]
    if "output" in names:
        labels = [f"{label}[{output}]" for label, output in zip(labels, frame["output"])]
    importances = np.moveaxis(np.asarray(result.importances_all, dtype=np.float64), 2, 1)
    importances = importances.reshape(-1, importances.shape[2])[order]  # (units x outputs) x repeats
    repeats = tuple(f"repeat{r + 1}" for r in range(importances.shape[1]))
    baseline = np.atleast_1d(np.asarray(result.baseline_scores, dtype=np.float64))
    return RValue(
        "data.frame",
        names=names,
        items=columns,
        attributes={
            "importances": RValue("double", values=importances, dimnames=(tuple(labels), repeats)),
            "settings": settings_list(result.settings, classes),
            "baseline_score": RValue("double", values=baseline,
                                     names=tuple(result.outputs) if baseline.size > 1 else None),
            "n_rows_used": as_r_setting(int(result.n_rows_used)),
            "n_repeats_used": as_r_setting(int(result.n_repeats_used)),
            "converged": RValue("logical", values=np.array([bool(result.converged)]),
                                na=np.array([result.converged is None])),
            "precision": RValue("double", values=np.array([np.nan if result.precision is None
                                                           else float(result.precision)]),
                                na=np.array([result.precision is None])),
            "summary": RValue("character", values=np.array(result.summary().split("\n"))),
            "confidence": as_r_setting(CONFIDENCE),
            "interval": as_r_setting(interval_description(result)),
            # each row's 1-based position in the engine's unit order (as.vi()'s raw scores keep that order)
            "unit_position": RValue("integer", values=(order + 1).astype(np.int32)),
            # rows x units in the engine's order (or row_note: why there are none), see .row_frame
            **row_attributes(result, [labels[i] for i in np.argsort(order, kind="stable")]),
            # per-row attribution maps, where the result has them (a sensitivity result), see .row_frame
            **map_attributes(result),
            # what the estimator reports beside the table (ShapleyResult: total, total_ci_low, total_ci_high)
            **{name: as_r_setting(np.atleast_1d(np.asarray(numbers, dtype=np.float64)))
               for name, numbers in result.extra_numbers().items()},
            "class": RValue("character", values=np.array(["pyimportance_result", "data.frame"])),
        },
    )
