"""A stand-in for Slack on 127.0.0.1, for the tests, the benchmarks and `openmodels demo`.

It is a simulator of Slack, not part of the bot: the Web API, file uploads, response
URLs and the OAuth pages (`localslack.server`), Socket Mode (`localslack.socket_mode`,
started on first use), and the requests Slack sends an app. It behaves as Slack really
does, quirks included, each modelled with its source beside the code.
"""
