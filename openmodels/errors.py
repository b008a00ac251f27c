"""The small exception hierarchy of openmodels.

A subclass of `OpenModelsError` is an error a person can act on: the CLI prints its
message as one line and exits non-zero, the Slack layer answers it ephemerally.
Anything else is a bug and is logged with its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class OpenModelsError(Exception):
    """An error whose message is meant for the person running openmodels."""


class ConfigError(OpenModelsError):
    """The configuration (environment, families file, tokens) is unusable."""


class FamiliesError(ConfigError):
    """The families file is malformed."""


class StoreError(OpenModelsError):
    """The SQLite store cannot be opened or is not one of ours."""


class HubError(OpenModelsError):
    """The Hub did not answer for an organisation, even after retries."""

    def __init__(self, org: str, message: str) -> None:
        super().__init__(f"Hub listing for '{org}' failed: {message}")
        self.org = org
        self.reason = message

    def __reduce__(self) -> tuple[type[HubError], tuple[str, str]]:
        # Rebuilt from both arguments when it crosses from a collection's own process.
        return (type(self), (self.org, self.reason))


class HubErrors(HubError):
    """The Hub did not answer for several organisations: one line for each."""

    def __init__(self, failures: Sequence[HubError]) -> None:
        OpenModelsError.__init__(self, "\n".join(str(f) for f in failures))
        self.failures = tuple(failures)
        self.org = failures[0].org
        self.reason = failures[0].reason

    def __reduce__(self) -> tuple[type[HubErrors], tuple[list[HubError]]]:  # type: ignore[override]
        return (type(self), (list(self.failures),))
