"""Local fakes of the services openmodels talks to, served over real HTTP on 127.0.0.1."""

from tests.fakes.fake_hub import FakeHub, OrgFaults, RecordedRequest, hub_model, without

__all__ = ["FakeHub", "OrgFaults", "RecordedRequest", "hub_model", "without"]
