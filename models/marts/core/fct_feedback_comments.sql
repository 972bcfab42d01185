{#- One row per free-text feedback comment of a known conversation, redacted (redact_pii):
    what users wrote, beside the conversation's outcome, intent and CSAT. Recomputes every
    changed conversation, not only changed content: a recontact can change the outcome. -#}
with

feedback as (

    select * from {{ ref('int_feedback_unioned') }}
    {{ changed_conversations_only(staged_input=ref('int_feedback_unioned')) }}

),

conversations as (

    select * from {{ ref('int_conversations_classified') }}
    {{ changed_conversations_only() }}

),

comments as (

    select * from feedback
    where
        feedback_kind = 'comment'
        and comment_text is not null
        and trim(comment_text) != ''

),

final as (

    select
        -- ids
        comments.feedback_id,
        comments.conversation_id,
        comments.message_id,
        conversations.user_id,
        conversations.bot_id,

        -- strings
        conversations.channel,
        conversations.bot_version,
        conversations.main_intent,
        conversations.outcome,
        conversations.experiment_variant,
        {{ redact_pii('comments.comment_text') }} as comment_text_redacted,

        -- numerics
        cast(length(comments.comment_text) as integer) as comment_length,
        conversations.csat_score,

        -- dates
        conversations.conversation_date,

        -- timestamps (UTC)
        comments.submitted_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from comments
    inner join conversations
        on comments.conversation_id = conversations.conversation_id

)

select * from final
