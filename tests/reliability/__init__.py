"""Reliability suite: faults, load and hostile input. Run alone with -m reliability."""
