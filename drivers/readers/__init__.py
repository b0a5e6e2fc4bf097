"""drivers.readers package."""
