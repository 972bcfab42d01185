"""What every step uses: paths, DuckDB connections, the batch lock, retries, fault
points and exit codes. Imports nothing from the other sub-packages."""
