"""rpt_experiments equals a recomputation from fct_conversations with scipy (1e-9): Wilson
intervals, CSAT t intervals, two-proportion z-tests, Welch's t-tests, the sample-ratio
chi-square and the crossover counts; and the distribution functions registered on the dbt
connection are scipy's."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import pytest
from scipy import stats as sp

from chatbatch.core.paths import Paths
from chatbatch.transform import stats

CONTROL = "control"
PLANNED = ("control", "treatment_a", "treatment_b")  # dbt_project.yml experiment_planned_split
MIN_ENGAGED = 100
Z = sp.norm.ppf(0.975)
RESOLVED = ("resolved_confirmed", "resolved_implied")


def _close(actual: float | None, expected: float | None, where: str) -> None:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        assert actual is None, where
        return
    assert actual is not None, where
    assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), (where, actual, expected)


def test_registered_distribution_functions_are_scipys() -> None:
    con = duckdb.connect()
    stats.register(con)
    for z in (-6.0, -1.96, -0.3, 0.0, 0.5, 1.959963984540054, 3.2, 8.0):
        got = con.execute("select stat_normal_two_sided_p(?)", [z]).fetchone()
        _close(got[0] if got else None, 2 * sp.norm.sf(abs(z)), f"normal {z}")
    for t in (-4.0, -1.0, 0.0, 0.7, 2.1, 12.0):
        for df in (1.0, 2.5, 7.3, 30.0, 151.77, 5000.0):
            got = con.execute(
                "select stat_t_two_sided_p(?, ?), stat_t_quantile(0.975, ?)", [t, df, df]
            ).fetchone()
            assert got is not None
            _close(got[0], 2 * sp.t.sf(abs(t), df), f"t {t} {df}")
            _close(got[1], sp.t.ppf(0.975, df), f"t quantile {df}")
    for x in (0.0, 0.4, 3.0, 13.8, 40.0):
        for df in (1.0, 2.0, 5.0):
            got = con.execute("select stat_chi_square_p(?, ?)", [x, df]).fetchone()
            _close(got[0] if got else None, sp.chi2.sf(x, df), f"chi2 {x} {df}")
    # undefined statistics give null, never NaN or an error
    assert con.execute("select stat_t_two_sided_p(1.0, 0.0), stat_normal_two_sided_p(null)").fetchone() == (
        None,
        None,
    )
    con.close()


@dataclass
class Arm:
    conversations: int = 0
    engaged: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    csat: list[float] = field(default_factory=list)
    cost: float | None = None  # null while no conversation of the arm has a cost (as SQL sum)
    users: set[str] = field(default_factory=set)


def _wilson(successes: int, n: int) -> tuple[float, float]:
    p = successes / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    denominator = 1 + Z * Z / n
    return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)


def _z_test_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return None if se == 0 else 2 * sp.norm.sf(abs((x1 / n1 - x2 / n2) / se))


def _expected(conversations: list[tuple]) -> dict[tuple, dict[str, float | int | bool | None]]:
    """Per (experiment, period_kind, period_start_date, variant): the mart's numbers, recomputed."""
    periods: dict[tuple, dict[str, Arm]] = defaultdict(lambda: defaultdict(Arm))
    first_day: dict[str, date] = {}
    for bot, variant, user, day, engaged, outcome, csat, cost in conversations:
        first_day[bot] = min(first_day.get(bot, day), day)
        monday = day - timedelta(days=day.weekday())
        for period in (("run", None), ("iso_week", monday)):
            arm = periods[(bot, *period)][variant]
            arm.conversations += 1
            arm.engaged += bool(engaged)
            if engaged:
                arm.outcomes["resolution"] += outcome in RESOLVED
                arm.outcomes["escalation"] += outcome == "escalated"
                arm.outcomes["abandonment"] += outcome == "abandoned"
            if csat is not None:
                arm.csat.append(float(csat))
            if cost is not None:
                arm.cost = (arm.cost or 0.0) + cost
            if user is not None:
                arm.users.add(user)
    out: dict[tuple, dict] = {}
    for (bot, kind, monday), arms in periods.items():
        total = sum(a.conversations for a in arms.values())
        observed = [arms[v].conversations if v in arms else 0 for v in PLANNED]
        chi = sp.chisquare(observed, [total / len(PLANNED)] * len(PLANNED))
        seen: dict[str, set[str]] = defaultdict(set)
        for variant, arm in arms.items():
            for user in arm.users:
                seen[user].add(variant)
        crossover = {u for u, vs in seen.items() if len(vs) > 1}
        control = arms.get(CONTROL)
        for variant, arm in arms.items():
            row: dict[str, float | int | bool | None] = {
                "conversations": arm.conversations,
                "engaged_conversations": arm.engaged,
                "known_users": len(arm.users),
                "crossover_users": len(arm.users & crossover),
                "period_crossover_users": len(crossover),
                "srm_chi_square": float(chi.statistic),
                "srm_p_value": float(chi.pvalue),
                "cost_per_conversation_usd": None if arm.cost is None else arm.cost / arm.conversations,
                "is_sample_too_small": arm.engaged < MIN_ENGAGED
                or (variant != CONTROL and (control.engaged if control else 0) < MIN_ENGAGED),
            }
            for name in ("resolution", "escalation", "abandonment"):
                x, n = arm.outcomes[name], arm.engaged
                row[f"{name}_rate"] = x / n if n else None
                row[f"{name}_rate_ci_low"], row[f"{name}_rate_ci_high"] = _wilson(x, n) if n else (None, None)
                if variant != CONTROL and control and control.engaged and n:
                    cx, cn = control.outcomes[name], control.engaged
                    row[f"{name}_lift_abs"] = x / n - cx / cn
                    row[f"{name}_lift_rel"] = (x / n - cx / cn) / (cx / cn) if cx else None
                    row[f"{name}_p_value"] = _z_test_p(x, n, cx, cn)
            if len(arm.csat) >= 2:
                mean, sem = sum(arm.csat) / len(arm.csat), sp.sem(arm.csat)
                # every answer the same: no spread, the interval is the mean itself (scipy's
                # t.interval gives nan for a zero scale)
                low, high = (
                    (mean, mean) if sem == 0 else sp.t.interval(0.95, len(arm.csat) - 1, loc=mean, scale=sem)
                )
                row.update(csat_avg=mean, csat_ci_low=float(low), csat_ci_high=float(high))
            if variant != CONTROL and control and len(arm.csat) >= 2 and len(control.csat) >= 2:
                welch = sp.ttest_ind(arm.csat, control.csat, equal_var=False)
                row["csat_p_value"] = float(welch.pvalue)
                row["csat_lift_abs"] = sum(arm.csat) / len(arm.csat) - sum(control.csat) / len(control.csat)
            start = first_day[bot] if kind == "run" else monday
            out[(bot, kind, start, variant)] = row
    return out


def test_rpt_experiments_equals_scipy(published_home: Paths) -> None:
    con = duckdb.connect(str(published_home.analytics), read_only=True)
    try:
        conversations = con.execute(
            """
            select bot_id, experiment_variant, user_id, conversation_date, is_engaged, outcome,
                csat_score, cost_usd
            from marts.fct_conversations
            where experiment_variant is not null
            """
        ).fetchall()
        mart = con.execute("select * from marts.rpt_experiments").fetchall()
        columns = [d[0] for d in con.description or []]
    finally:
        con.close()
    expected = _expected(conversations)
    assert len(mart) == len(expected) > 0
    compared = 0
    for values in mart:
        row = dict(zip(columns, values, strict=True))
        key = (row["experiment_id"], row["period_kind"], row["period_start_date"], row["variant"])
        for name, value in expected[key].items():
            where = f"{key} {name}"
            if isinstance(value, bool):
                assert row[name] is value, where
            elif isinstance(value, int):
                assert row[name] == value, where
            else:
                _close(row[name], value, where)
            compared += 1
    assert compared >= 10 * len(mart)
    # at least one comparison of each test actually ran on the fixture's data
    assert any(r[columns.index("csat_p_value")] is not None for r in mart)
    assert any(r[columns.index("resolution_p_value")] is not None for r in mart)


@pytest.mark.parametrize("table", ["rpt_experiments", "fct_feedback_comments", "rpt_model_usage"])
def test_new_marts_are_published(published_home: Paths, table: str) -> None:
    con = duckdb.connect(str(published_home.analytics), read_only=True)
    try:
        row = con.execute(f"select count(*) from marts.{table}").fetchone()
    finally:
        con.close()
    assert row and row[0] > 0
