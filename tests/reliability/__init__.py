"""Reliability suite (issue 5): faults, load and hostile input. Run alone with -m reliability."""
