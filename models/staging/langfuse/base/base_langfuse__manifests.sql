{{ config(unique_key=['_file_path', '_line_number']) }}

{#- One row per run manifest (one line each): the run's window and its declared files. The
    ingest step has already refused manifests it cannot use; this keeps them queryable. -#}

with raw_lines as (

    select * from {{ source('langfuse', 'langfuse_manifests') }}
    {{ new_batches_only() }}

),

records as (

    {{ source_records('raw_lines') }}

),

final as (

    select
        _file_path,
        _export_date,
        _line_number,
        _batch_id,
        {{ try_cast("_record ->> 'version'", 'integer') }} as manifest_version,
        _record ->> 'projectId' as project_id,
        _record ->> 'exportSource' as export_source,
        {{ try_cast("_record -> 'window' ->> 'maxTimestamp'", 'timestamptz') }} at time zone 'UTC' as window_max_at,
        {{ try_cast("_record -> 'window' ->> 'minTimestamp'", 'timestamptz') }} at time zone 'UTC' as window_min_at,
        cast(json_array_length(_record -> 'files') as integer) as declared_files,
        case
            when _line_error is not null then _line_error
            when _record is null then 'malformed_json'
            when coalesce({{ try_cast("_record ->> 'version'", 'integer') }}, -1) != 1 then 'invalid_enum:version'
        end as _quarantine_reason,
        case when _line_error is not null or _record is null then left(_line, 1024) end as _rejected_line
    from records

)

select * from final
