"""Scheduled jobs (retrain, owner refresh, metadata backfill, housekeeping), their
PostgreSQL advisory lock and run history. Runs inside `tys run` or as `tys scheduler`."""
