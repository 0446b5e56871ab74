"""FormWatch's library: everything that does the work, usable without Prefect."""
