with

source as (

    select * from {{ source('topics', 'topics') }}

),

models as (

    select * from {{ source('topics', 'topic_models') }}

),

-- the topics of the current (latest) model: the ones messages are assigned to
current_model as (

    select max(model_version) as model_version
    from models

),

final as (

    select
        source.topic_id,
        source.model_version,
        source.label,
        source.top_terms,
        source.representative_utterance,
        source.example_utterances,
        source.fit_messages

    from source
    inner join current_model
        on source.model_version = current_model.model_version

)

select * from final
