{#-
    Langfuse user ids as contract v1 users (docs/sources/langfuse.md, "users"). Langfuse
    exports no user profile: created_at, segment and country are null.
-#}

with observations as (

    select * from {{ ref('int_langfuse_observations_resolved') }}

),

final as (

    {{ users_without_profile('observations', exported_at='updated_at') }}

)

select * from final
