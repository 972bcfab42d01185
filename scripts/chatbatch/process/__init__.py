"""Process: plan what a night must do, run dbt (base models, the quality gate, the rest
of the build) and audit the result before anything is published."""
