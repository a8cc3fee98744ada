"""The framework floor: bare Django views that do exactly the named work and nothing else."""
