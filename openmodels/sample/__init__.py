"""The synthetic sample store shipped with openmodels (see scripts/make_sample.py)."""
