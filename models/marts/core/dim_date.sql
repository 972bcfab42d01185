with

conversations as (

    select * from {{ ref('int_conversations_aggregated') }}

),

-- every day of the calendar years that hold conversations, with data or not: a report can
-- join its days to dim_date and see the empty ones, and next days join before they have data
year_starts as (

    select
        cast({{ dbt.date_trunc('year', 'min(conversation_date)') }} as date) as first_year_start,
        cast({{ dbt.date_trunc('year', 'max(conversation_date)') }} as date) as last_year_start

    from conversations

),

bounds as (

    select
        first_year_start as first_date,
        {{ add_days(
            'cast(' ~ dbt.date_trunc('year', add_days('last_year_start', 366)) ~ ' as date)', -1
        ) }} as last_date

    from year_starts

),

day_offsets as (

    {{ integer_sequence(4) }}

),

spine as (

    select {{ add_days('bounds.first_date', 'day_offsets.n') }} as date_day

    from bounds
    cross join day_offsets
    where day_offsets.n <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

),

final as (

    select
        -- dates
        date_day,
        {{ iso_week_start('date_day') }} as iso_week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,

        -- numerics
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        {{ iso_year('date_day') }} as iso_year,
        {{ iso_week_number('date_day') }} as iso_week,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,

        -- booleans
        {{ iso_day_of_week('date_day') }} >= 6 as is_weekend

    from spine

)

select * from final
