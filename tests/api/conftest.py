"""Fixtures shared by the API tests."""
import pytest

DEMO_PEOPLE = {"region", "engineer"}


@pytest.fixture
def flow_api(demo_api):
    """The shipped app plus its demo regions and engineers, so the work-order workflow can run (the
    stores, parts and opening stock only where a test asks: 70 writes instead of 12 per test)."""
    from chalicelib.seed import install_demo_data
    install_demo_data("demo", forms=DEMO_PEOPLE)
    return demo_api
