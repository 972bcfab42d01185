"""Accumulate: find landing files, load their lines untouched into ``raw.*`` with a
manifest, and purge landing files once their records are safely kept elsewhere."""
