"""The Slack side of openmodels: the Bolt app, its runtime, the scheduler and delivery."""
