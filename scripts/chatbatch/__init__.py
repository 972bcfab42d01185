"""chatbatch: the nightly batch runner of chatbot-analytics.

The sub-packages follow the batch's workflow, in the order a night runs them:

* ``accumulate`` — find landing files, load their lines into ``raw.*``, purge old ones;
* ``process``    — plan what a night must do, run dbt, gate on data quality, audit;
* ``transform``  — Python that dbt itself calls while it transforms (the PII redactor);
* ``output``     — publish the audited marts, then the workloads (ML sets, archive,
  features, KB index, report);
* ``monitor``    — the typed run record, the run history, alerts, status and summary;
* ``core``       — what every step uses: paths, DuckDB connections, the batch lock,
  retries, fault points, exit codes.

``nightly`` strings the steps together; ``cli`` is the command line. Development tools
(the data generator, the benchmark, the Spark comparison) live in ``chatbatch_dev`` and
are never imported by the nightly path.
"""
