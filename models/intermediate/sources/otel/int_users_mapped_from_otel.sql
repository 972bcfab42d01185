{#-
    OTel user ids (`user.id`, span or resource attribute) as contract v1 users
    (docs/sources/otel-genai.md, "users"). OTel carries no user profile: created_at, segment
    and country are null.
-#}

with spans as (

    select * from {{ ref('int_otel_spans_resolved') }}

),

final as (

    {{ users_without_profile('spans', exported_at='exported_at') }}

)

select * from final
