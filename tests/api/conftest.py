"""Fixtures shared by the API tests."""
import pytest


@pytest.fixture
def flow_api(demo_api):
    """The shipped app plus its demo regions and engineers, so the work-order workflow can run."""
    from chalicelib.seed import install_demo_data
    install_demo_data("demo")
    return demo_api
