"""drivers.ipp package."""
