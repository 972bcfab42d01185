{{ config(unique_key='week_start_date') }}

{#-
    Per experiment × ISO week × variant: the additive volumes of the arm (conversations,
    outcomes, CSAT count, sum and sum of squares, cost), its known and crossover users in the
    week, and the week's own user checks. rpt_experiments reads its week rows from here and
    sums its run rows, so a night recomputes only the weeks holding changed conversations
    (delete+insert by week: every experiment's rows of a recomputed week are rewritten).
-#}

{%- set resolved = "outcome in ('resolved_confirmed', 'resolved_implied')" -%}

with

conversations as (

    select
        bot_id as experiment_id,
        experiment_variant as variant,
        {{ iso_week_start('conversation_date') }} as week_start_date,
        conversation_id,
        user_id,
        conversation_date,
        is_engaged,
        outcome,
        csat_score,
        cost_usd

    from {{ ref('fct_conversations') }}
    where
        experiment_variant is not null
        {{ changed_days_only(
            ref('fct_conversations'),
            column=iso_week_start('conversation_date'),
            bucket=iso_week_start('facts.conversation_date'),
            keyword='and'
        ) }}

),

known_arm_users as (

    select distinct
        experiment_id,
        week_start_date,
        variant,
        user_id

    from conversations
    where user_id is not null

),

-- known and crossover users per arm and per week (the week's rows: is_period_total)
user_counts as (

    {{ experiment_user_counts('known_arm_users', ['week_start_date']) }}

),

arms as (

    select
        experiment_id,
        week_start_date,
        variant,
        min(conversation_date) as first_conversation_date,
        max(conversation_date) as last_conversation_date,
        count(*) as conversations,
        count(case when is_engaged then conversation_id end) as engaged_conversations,
        count(case when is_engaged and {{ resolved }} then conversation_id end)
            as resolved_conversations,
        count(case when is_engaged and outcome = 'escalated' then conversation_id end)
            as escalated_conversations,
        count(case when is_engaged and outcome = 'abandoned' then conversation_id end)
            as abandoned_conversations,
        count(csat_score) as csat_responses,
        sum(cast(csat_score as bigint)) as csat_sum,
        sum(cast(csat_score as bigint) * csat_score) as csat_sum_of_squares,
        sum(cost_usd) as cost_usd

    from conversations
    group by 1, 2, 3

),

final as (

    select
        arms.experiment_id,
        arms.week_start_date,
        arms.variant,
        arms.first_conversation_date,
        arms.last_conversation_date,
        cast(arms.conversations as bigint) as conversations,
        cast(arms.engaged_conversations as bigint) as engaged_conversations,
        cast(arms.resolved_conversations as bigint) as resolved_conversations,
        cast(arms.escalated_conversations as bigint) as escalated_conversations,
        cast(arms.abandoned_conversations as bigint) as abandoned_conversations,
        cast(arms.csat_responses as bigint) as csat_responses,
        cast(coalesce(arms.csat_sum, 0) as bigint) as csat_sum,
        cast(coalesce(arms.csat_sum_of_squares, 0) as bigint) as csat_sum_of_squares,
        cast(arms.cost_usd as double) as cost_usd,
        cast(coalesce(arm_user_counts.known_users, 0) as bigint) as known_users,
        cast(coalesce(arm_user_counts.crossover_users, 0) as bigint) as crossover_users,
        cast(coalesce(week_user_counts.known_users, 0) as bigint) as week_known_users,
        cast(coalesce(week_user_counts.crossover_users, 0) as bigint) as week_crossover_users,
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from arms
    left join user_counts as arm_user_counts
        on
            arms.experiment_id = arm_user_counts.experiment_id
            and arms.week_start_date = arm_user_counts.week_start_date
            and arms.variant = arm_user_counts.variant
            and not arm_user_counts.is_period_total
    left join user_counts as week_user_counts
        on
            arms.experiment_id = week_user_counts.experiment_id
            and arms.week_start_date = week_user_counts.week_start_date
            and week_user_counts.is_period_total

)

select * from final
