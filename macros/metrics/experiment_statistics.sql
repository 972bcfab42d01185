{#
    The experiment statistics (rpt_experiments), each formula once. Rates are successes / n;
    the distribution functions (p-values, t quantiles) are scipy's, registered on the
    connection by chatbatch.transform.stats (DuckDB and Spark SQL have no normal, t or
    chi-square CDF). 1.959963984540054 = scipy.stats.norm.ppf(0.975), the 95 % z.
#}

{% macro z_95() -%}
    1.959963984540054
{%- endmacro %}

{#- Wilson score interval of successes / n at 95 %: `bound` is 'lower' or 'upper'; null when n = 0. -#}
{% macro wilson_bound(successes, n, bound) -%}
    {%- set z = chatbot_analytics.z_95() -%}
    {%- set p = '(cast(' ~ successes ~ ' as double) / nullif(cast(' ~ n ~ ' as double), 0))' -%}
    {%- set sign = '-' if bound == 'lower' else '+' -%}
    {#- clamped to [0, 1]: at p = 0 or 1 the bound is 0 or 1 up to a rounding error; null
        when n = 0 (greatest / least skip nulls on DuckDB, hence the case) -#}
    case
        when {{ n }} > 0 then {{ 'greatest(0.0, ' if bound == 'lower' else 'least(1.0, ' }}
            ({{ p }} + {{ z }} * {{ z }} / (2.0 * {{ n }})
            {{ sign }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})))
            / (1 + {{ z }} * {{ z }} / {{ n }})
        )
    end
{%- endmacro %}

{#- Two-proportion z statistic (pooled standard error) of x1/n1 - x2/n2; null when undefined. -#}
{% macro two_proportion_z(x1, n1, x2, n2) -%}
    {%- set pooled = '(cast(' ~ x1 ~ ' + ' ~ x2 ~ ' as double) / nullif(' ~ n1 ~ ' + ' ~ n2 ~ ', 0))' -%}
    (
        (cast({{ x1 }} as double) / nullif({{ n1 }}, 0) - cast({{ x2 }} as double) / nullif({{ n2 }}, 0))
        / nullif(sqrt({{ pooled }} * (1 - {{ pooled }}) * (1.0 / nullif({{ n1 }}, 0) + 1.0 / nullif({{ n2 }}, 0))), 0)
    )
{%- endmacro %}

{#- Welch's t statistic of mean1 - mean2 (sample variances v, sizes n). -#}
{% macro welch_t(mean1, var1, n1, mean2, var2, n2) -%}
    (
        ({{ mean1 }} - {{ mean2 }})
        / nullif(sqrt({{ var1 }} / {{ n1 }} + {{ var2 }} / {{ n2 }}), 0)
    )
{%- endmacro %}

{#- Welch-Satterthwaite degrees of freedom; null when a side has n < 2 or both variances are 0. -#}
{% macro welch_df(var1, n1, var2, n2) -%}
    (
        power({{ var1 }} / {{ n1 }} + {{ var2 }} / {{ n2 }}, 2)
        / nullif(
            power({{ var1 }} / {{ n1 }}, 2) / nullif({{ n1 }} - 1, 0)
            + power({{ var2 }} / {{ n2 }}, 2) / nullif({{ n2 }} - 1, 0),
            0
        )
    )
{%- endmacro %}

{#- Two-sided p-values and quantiles (scipy, see chatbatch.transform.stats). -#}
{% macro normal_two_sided_p(z) -%}
    stat_normal_two_sided_p(cast({{ z }} as double))
{%- endmacro %}

{% macro t_two_sided_p(t, df) -%}
    stat_t_two_sided_p(cast({{ t }} as double), cast({{ df }} as double))
{%- endmacro %}

{% macro t_quantile(p, df) -%}
    stat_t_quantile(cast({{ p }} as double), cast({{ df }} as double))
{%- endmacro %}

{% macro chi_square_p(x, df) -%}
    stat_chi_square_p(cast({{ x }} as double), cast({{ df }} as double))
{%- endmacro %}

{#- Known and crossover users per arm and per period, from `arm_users`: distinct
    (experiment_id, <period_columns>, variant, user_id) rows of known users. A crossover user
    saw more than one variant of the experiment in the period. Rows with is_period_total are
    the period's own counts (variant null, a user counted once across its variants); the
    others are the arm's. `period_columns` is [] for the experiment's whole run. -#}
{% macro experiment_user_counts(arm_users, period_columns) -%}
    {%- set period_keys = (['experiment_id'] + period_columns) | join(', ') -%}
    with user_variants as (
        select
            *,
            count(*) over (partition by {{ period_keys }}, user_id) as variants
        from {{ arm_users }}
    )

    select
        {{ period_keys }},
        variant,
        false as is_period_total,
        count(*) as known_users,
        count(case when variants > 1 then user_id end) as crossover_users
    from user_variants
    group by {{ period_keys }}, variant

    union all

    select
        {{ period_keys }},
        cast(null as {{ dbt.type_string() }}) as variant,
        true as is_period_total,
        count(distinct user_id) as known_users,
        count(distinct case when variants > 1 then user_id end) as crossover_users
    from user_variants
    group by {{ period_keys }}
{%- endmacro %}
