"""Running the archive: portal leases, health and the scheduler's own records, alerts,
backfill plans."""
