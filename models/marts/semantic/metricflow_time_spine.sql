{#
    Day spine of the semantic layer (MetricFlow): one row per calendar day over a fixed
    range wide enough for any export history, so metrics can be joined to days without
    data. Declared as the time spine in _semantic__models.yml.
#}
with

day_offsets as (

    {{ integer_sequence(4) }}

),

spine as (

    select {{ add_days("cast('2020-01-01' as date)", 'day_offsets.n') }} as date_day

    from day_offsets

),

final as (

    select date_day

    from spine
    where date_day <= cast('2035-12-31' as date)

)

select * from final
