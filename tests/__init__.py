"""The openmodels test suite: a specification of behaviour."""
