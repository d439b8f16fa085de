"""Worker tests call execute() in-process, as the runner's child does after the sandbox is up
(the CPU compiler workaround they need is set in tests/conftest.py, before any backend starts)."""
