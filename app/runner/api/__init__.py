"""The caller's side of the runner: what the app, the CLI and the worker host call, in their
process.

runner.py starts the supervisor and talks to it over pipes; interface.py is what the UI sees of a
runner (local or remote); admission.py refuses a session's runs over its rate limit before they
queue; cli.py is `python -m app run`.
"""
