-- dim_date has every day between its first and last day (no gaps, whatever the data), starts
-- on 1 January, ends on 31 December and covers every conversation day. (Data tests run on
-- DuckDB only, where a date minus a date is a day count.)
with

dates as (

    select * from {{ ref('dim_date') }}

),

bounds as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day,
        count(*) as day_count,
        max(date_day) - min(date_day) + 1 as span_days

    from dates

),

conversation_days as (

    select distinct conversation_date
    from {{ ref('fct_conversations') }}

)

select 'gap' as problem
from bounds
where span_days != day_count

union all

select 'not whole years' as problem
from bounds
where
    extract(month from first_day) != 1 or extract(day from first_day) != 1
    or extract(month from last_day) != 12 or extract(day from last_day) != 31

union all

select 'conversation day missing' as problem
from conversation_days
where conversation_date not in (select dates.date_day from dates)
