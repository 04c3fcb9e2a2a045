def pytest_terminal_summary(terminalreporter):
    """How many requests the bad-input walk sent (it is run time worth watching)."""
    from tests.security.test_bad_input import Walk

    if Walk.requests:
        terminalreporter.write_line(f"bad-input walk: {Walk.requests} requests")
