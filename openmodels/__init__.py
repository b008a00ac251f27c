"""openmodels: which open-weight model families the world downloads, and when that changes."""

__version__ = "0.1.0"
