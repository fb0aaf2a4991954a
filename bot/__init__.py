"""Rapport's platform-neutral core: events in, replies out, ports for everything else."""
