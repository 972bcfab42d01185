"""Distribution functions the experiment statistics need, from scipy: the one implementation.

DuckDB (and Spark SQL) have no normal, Student-t or chi-square CDF. ``rpt_experiments``
computes every statistic in SQL (rates, Wilson intervals, z and Welch t statistics, degrees of
freedom, chi-square) and calls these functions only to turn a statistic into a p-value or a
quantile: the dbt-duckdb plugin (``chatbatch.transform.dbt_plugin``) registers them on every
dbt connection, ``chatbatch.accumulate.spark_load.register_functions`` on Spark, under the names
in :data:`FUNCTIONS`. They are the very functions ``scipy.stats`` evaluates for these
distributions (``scipy.special``: ``ndtr`` for the normal, ``stdtr`` / ``stdtrit`` for
Student's t, ``chdtrc`` for the chi-square tail), so a test comparing the mart with
``scipy.stats`` compares like with like; a hand-written approximation of the t CDF in SQL was
rejected (it would need the regularised incomplete beta function, a continued fraction).

scipy is imported on the first call, not with the module: the dbt plugin imports this module
on every dbt process, and most builds never call a distribution function. ``scipy.special``
imports in 0.24 s, ``scipy.stats`` in 0.86 s: a night whose data holds an experiment paid
that difference in ``rpt_experiments``.

Null in, null out; an undefined statistic (no degrees of freedom, a value that is not finite)
gives null too, never NaN or an error (``null_handling='special'``: the functions see nulls).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

import duckdb


def _special() -> ModuleType:
    from scipy import special

    return special


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _defined(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def normal_two_sided_p(z: float | None) -> float | None:
    """P(|Z| >= |z|) for a standard normal Z (the two-proportion z-test's p-value)."""
    if z is None or not _defined(z):
        return None
    return _finite(float(2.0 * _special().ndtr(-abs(z))))


def t_two_sided_p(t: float | None, df: float | None) -> float | None:
    """P(|T| >= |t|) for Student's t with ``df`` (possibly fractional: Welch) degrees of freedom."""
    if t is None or df is None or not _defined(t, df) or df <= 0:
        return None
    return _finite(float(2.0 * _special().stdtr(df, -abs(t))))


def t_quantile(p: float | None, df: float | None) -> float | None:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom."""
    if p is None or df is None or not _defined(p, df) or df <= 0 or not 0.0 < p < 1.0:
        return None
    return _finite(float(_special().stdtrit(df, p)))


def chi_square_p(x: float | None, df: float | None) -> float | None:
    """P(X >= x) for a chi-square X with ``df`` degrees of freedom (the SRM test's p-value)."""
    if x is None or df is None or not _defined(x, df) or df <= 0:
        return None
    return _finite(float(_special().chdtrc(df, x)))


# SQL name -> (function, number of DOUBLE arguments)
FUNCTIONS: dict[str, tuple[Callable[..., float | None], int]] = {
    "stat_normal_two_sided_p": (normal_two_sided_p, 1),
    "stat_t_two_sided_p": (t_two_sided_p, 2),
    "stat_t_quantile": (t_quantile, 2),
    "stat_chi_square_p": (chi_square_p, 2),
}


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Make the functions of :data:`FUNCTIONS` callable in SQL on this DuckDB connection."""
    for name, (function, arity) in FUNCTIONS.items():
        con.create_function(
            name, function, ["DOUBLE"] * arity, "DOUBLE", null_handling="special", side_effects=False
        )
