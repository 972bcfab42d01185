{{ config(materialized='table') }}

{#-
    Per experiment × period × variant: volumes, outcome rates with 95 % Wilson intervals,
    CSAT mean with its 95 % t interval, cost per conversation, and for every non-control
    variant the lift against control with a two-sided p-value (two-proportion z-test for the
    rates, Welch's t-test for CSAT), plus the sample-ratio (SRM) and crossover checks.
    An experiment is one bot_id's conversations carrying an experiment_variant; periods are
    the experiment's whole run and each ISO week. Conversations are the unit. Rebuilt whole
    each night from two small incremental tables: the week rows from
    int_experiment_weeks_aggregated, the run rows summed from its weeks (CSAT mean and
    variance from exact integer sums), the run's users from int_experiment_users_aggregated.
    A night therefore costs the weeks and users it changed, not the experiment's length.
-#}

{%- set control = var('experiment_control_variant') -%}
{%- set split = var('experiment_planned_split') -%}
{%- set min_engaged = var('experiment_min_engaged') -%}
{%- set outcomes = [
    ('resolved', 'resolution'), ('escalated', 'escalation'), ('abandoned', 'abandonment')
] -%}
{%- set additive = [
    'conversations', 'engaged', 'resolved', 'escalated', 'abandoned', 'csat_n', 'csat_sum',
    'csat_sum_of_squares', 'cost_usd'
] -%}

with

experiment_weeks as (

    select * from {{ ref('int_experiment_weeks_aggregated') }}

),

experiment_users as (

    select * from {{ ref('int_experiment_users_aggregated') }}

),

week_arms as (

    select
        experiment_id,
        'iso_week' as period_kind,
        'iso_week:' || cast(week_start_date as {{ dbt.type_string() }}) as period_key,
        week_start_date,
        variant,
        first_conversation_date,
        last_conversation_date,
        conversations,
        engaged_conversations as engaged,
        resolved_conversations as resolved,
        escalated_conversations as escalated,
        abandoned_conversations as abandoned,
        csat_responses as csat_n,
        csat_sum,
        csat_sum_of_squares,
        cost_usd,
        known_users,
        crossover_users

    from experiment_weeks

),

-- known and crossover users per arm and over the experiment's whole run (is_period_total)
run_user_counts as (

    {{ experiment_user_counts('experiment_users', []) }}

),

run_arms as (

    select
        week_arms.experiment_id,
        'run' as period_kind,
        'run' as period_key,
        cast(null as date) as week_start_date,
        week_arms.variant,
        min(week_arms.first_conversation_date) as first_conversation_date,
        max(week_arms.last_conversation_date) as last_conversation_date,
        {%- for column in additive %}
        sum(week_arms.{{ column }}) as {{ column }},
        {%- endfor %}
        coalesce(max(run_user_counts.known_users), 0) as known_users,
        coalesce(max(run_user_counts.crossover_users), 0) as crossover_users

    from week_arms
    left join run_user_counts
        on
            week_arms.experiment_id = run_user_counts.experiment_id
            and week_arms.variant = run_user_counts.variant
            and not run_user_counts.is_period_total
    group by 1, 2, 3, 4, 5

),

arm_sums as (

    select * from week_arms
    union all
    select * from run_arms

),

-- CSAT mean and sample variance from the integer sums (exact up to the final division)
arms as (

    select
        *,
        cast(csat_sum as double) / nullif(csat_n, 0) as csat_mean,
        case
            when csat_n >= 2
                then cast(csat_n * csat_sum_of_squares - csat_sum * csat_sum as double)
                    / (cast(csat_n as double) * (csat_n - 1))
        end as csat_var

    from arm_sums

),

periods as (

    select
        experiment_id,
        period_kind,
        period_key,
        week_start_date,
        min(first_conversation_date) as first_date,
        max(last_conversation_date) as last_date,
        sum(conversations) as conversations

    from arms
    group by 1, 2, 3, 4

),

period_users as (

    select
        experiment_id,
        'iso_week:' || cast(week_start_date as {{ dbt.type_string() }}) as period_key,
        max(week_known_users) as known_users,
        max(week_crossover_users) as crossover_users

    from experiment_weeks
    group by 1, 2

    union all

    select
        experiment_id,
        'run' as period_key,
        known_users,
        crossover_users

    from run_user_counts
    where is_period_total

),

planned as (

    {%- set total_weight = split.values() | sum %}
    {%- for name, weight in split.items() %}
    select
        '{{ name }}' as variant,
        cast({{ weight }} as double) / {{ total_weight }} as planned_share
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

-- chi-square of the observed conversations per planned variant against the planned split
sample_ratio as (

    select
        periods.experiment_id,
        periods.period_kind,
        periods.period_key,
        periods.week_start_date,
        sum(
            power(
                coalesce(arms.conversations, 0) - periods.conversations * planned.planned_share, 2
            ) / (periods.conversations * planned.planned_share)
        ) as srm_chi_square,
        count(*) - 1 as srm_degrees_of_freedom

    from periods
    cross join planned
    left join arms
        on
            periods.experiment_id = arms.experiment_id
            and periods.period_key = arms.period_key
            and planned.variant = arms.variant
    group by 1, 2, 3, 4

),

compared as (

    select
        arms.*,
        control_arm.engaged as control_engaged,
        control_arm.resolved as control_resolved,
        control_arm.escalated as control_escalated,
        control_arm.abandoned as control_abandoned,
        control_arm.csat_n as control_csat_n,
        control_arm.csat_mean as control_csat_mean,
        control_arm.csat_var as control_csat_var

    from arms
    left join arms as control_arm
        on
            arms.experiment_id = control_arm.experiment_id
            and arms.period_key = control_arm.period_key
            and control_arm.variant = '{{ control }}'
            and arms.variant != '{{ control }}'

),

statistics as (

    select
        *,
        {%- for name in ['resolved', 'escalated', 'abandoned'] %}
        cast({{ name }} as double) / nullif(engaged, 0) as {{ name }}_rate,
        cast(control_{{ name }} as double) / nullif(control_engaged, 0) as control_{{ name }}_rate,
        {{ two_proportion_z(name, 'engaged', 'control_' ~ name, 'control_engaged') }}
            as {{ name }}_z,
        {%- endfor %}
        {{ welch_t(
            'csat_mean', 'csat_var', 'csat_n', 'control_csat_mean', 'control_csat_var', 'control_csat_n'
        ) }} as csat_t,
        case
            when csat_n >= 2 and control_csat_n >= 2
                then {{ welch_df('csat_var', 'csat_n', 'control_csat_var', 'control_csat_n') }}
        end as csat_welch_df,
        case
            when csat_n >= 2
                then {{ t_quantile(0.975, 'csat_n - 1') }} * sqrt(csat_var / csat_n)
        end as csat_half_width

    from compared

),

final as (

    select
        -- grain
        statistics.experiment_id,
        statistics.period_kind,
        coalesce(statistics.week_start_date, periods.first_date) as period_start_date,
        coalesce(
            {{ add_days('statistics.week_start_date', 6) }}, periods.last_date
        ) as period_end_date,
        statistics.variant,

        -- booleans
        statistics.variant = '{{ control }}' as is_control,

        -- volumes
        cast(statistics.conversations as bigint) as conversations,
        cast(statistics.engaged as bigint) as engaged_conversations,
        cast(statistics.resolved as bigint) as resolved_conversations,
        cast(statistics.escalated as bigint) as escalated_conversations,
        cast(statistics.abandoned as bigint) as abandoned_conversations,
        cast(statistics.known_users as bigint) as known_users,
        cast(statistics.crossover_users as bigint) as crossover_users,

        -- rates with 95 % Wilson intervals (denominator: engaged conversations)
        {%- for name, label in outcomes %}
        cast(statistics.{{ name }}_rate as double) as {{ label }}_rate,
        cast({{ wilson_bound('statistics.' ~ name, 'statistics.engaged', 'lower') }} as double)
            as {{ label }}_rate_ci_low,
        cast({{ wilson_bound('statistics.' ~ name, 'statistics.engaged', 'upper') }} as double)
            as {{ label }}_rate_ci_high,
        {%- endfor %}

        -- CSAT with its 95 % t interval
        cast(statistics.csat_n as bigint) as csat_responses,
        cast(statistics.csat_mean as double) as csat_avg,
        cast(statistics.csat_mean - statistics.csat_half_width as double) as csat_ci_low,
        cast(statistics.csat_mean + statistics.csat_half_width as double) as csat_ci_high,

        -- cost
        cast(statistics.cost_usd as double) as cost_usd,
        cast(statistics.cost_usd / statistics.conversations as double) as cost_per_conversation_usd,

        -- against control (null on the control rows)
        {%- for name, label in outcomes %}
        cast(statistics.{{ name }}_rate - statistics.control_{{ name }}_rate as double)
            as {{ label }}_lift_abs,
        cast(
            (statistics.{{ name }}_rate - statistics.control_{{ name }}_rate)
            / nullif(statistics.control_{{ name }}_rate, 0) as double
        ) as {{ label }}_lift_rel,
        cast({{ normal_two_sided_p('statistics.' ~ name ~ '_z') }} as double)
            as {{ label }}_p_value,
        {%- endfor %}
        cast(statistics.csat_mean - statistics.control_csat_mean as double) as csat_lift_abs,
        cast(
            (statistics.csat_mean - statistics.control_csat_mean)
            / nullif(statistics.control_csat_mean, 0) as double
        ) as csat_lift_rel,
        cast({{ t_two_sided_p('statistics.csat_t', 'statistics.csat_welch_df') }} as double)
            as csat_p_value,
        coalesce(
            statistics.engaged < {{ min_engaged }}
            or (
                statistics.variant != '{{ control }}'
                and coalesce(statistics.control_engaged, 0) < {{ min_engaged }}
            ),
            true
        ) as is_sample_too_small,

        -- the period's checks (the same on every variant row of the period)
        cast(periods.conversations as bigint) as period_conversations,
        cast(coalesce(period_users.known_users, 0) as bigint) as period_known_users,
        cast(coalesce(period_users.crossover_users, 0) as bigint) as period_crossover_users,
        cast(sample_ratio.srm_chi_square as double) as srm_chi_square,
        cast({{ chi_square_p(
            'sample_ratio.srm_chi_square', 'sample_ratio.srm_degrees_of_freedom'
        ) }} as double) as srm_p_value,
        coalesce(
            {{ chi_square_p(
            'sample_ratio.srm_chi_square', 'sample_ratio.srm_degrees_of_freedom'
        ) }} < {{ var('experiment_srm_max_p_value') }},
            false
        ) as has_sample_ratio_mismatch,

        -- lineage
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from statistics
    inner join periods
        on
            statistics.experiment_id = periods.experiment_id
            and statistics.period_key = periods.period_key
    inner join sample_ratio
        on
            statistics.experiment_id = sample_ratio.experiment_id
            and statistics.period_key = sample_ratio.period_key
    left join period_users
        on
            statistics.experiment_id = period_users.experiment_id
            and statistics.period_key = period_users.period_key

)

select * from final
