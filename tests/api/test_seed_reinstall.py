"""Restarting `make run` installs the shipped app again: nothing whose body did not change gains a
version (the dispatch policy did, on every restart: its decimals were read as floats from the file and
compared with the stored Decimal text)."""
from chalicelib.seed import install_app, DEMO_TENANT
from chalicelib.storage import definitions as definition_store

def test_reinstalling_the_shipped_app_publishes_nothing_new(demo_api):
    heads = {(h.kind, h.name): h.latest for h in definition_store.list_heads(DEMO_TENANT)}
    install_app(DEMO_TENANT)
    again = {(h.kind, h.name): h.latest for h in definition_store.list_heads(DEMO_TENANT)}
    assert again == heads
