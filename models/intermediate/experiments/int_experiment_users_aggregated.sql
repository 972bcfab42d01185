{{ config(unique_key='user_id') }}

{#-
    Per experiment × known user × variant: the user's conversations in that arm over the
    experiment's whole run. rpt_experiments counts the run's known users and crossover users
    (users who saw more than one variant) from here, so a night recomputes only the users
    with changed conversations (delete+insert by user: all of a recomputed user's rows are
    rewritten), not the experiment's whole run.
-#}

with

conversations as (

    select * from {{ ref('fct_conversations') }}
    {{ changed_users_only(ref('fct_conversations')) }}

),

final as (

    select
        bot_id as experiment_id,
        user_id,
        experiment_variant as variant,
        cast(count(*) as bigint) as conversations,
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from conversations
    where experiment_variant is not null and user_id is not null
    group by 1, 2, 3

)

select * from final
