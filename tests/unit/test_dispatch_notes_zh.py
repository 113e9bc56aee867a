"""Every note and rule message the dispatch engine writes (dispatch.scoring.score_parts,
dispatch.rules) has a zh-CN form (dispatch.summary.note_in); English readers get them unchanged."""
import re

import pytest

from chalicelib.dispatch.summary import note_in

MESSAGES = [
    "12.3 km to the site", "engineer location unknown: counted as far", "the order has no site location",
    "hvac level 4 of 5", "the order needs no particular skill", "no preferred engineer", "the preferred engineer",
    "the order prefers eng.zhang", "last dispatched 3.5 h ago", "not dispatched yet",
    "helps from neighbouring region east", "same region", "0 today of 6 (0 open)", "2 open of 5",
    "the order has no region", "region east is not one of: north, south", "no hvac skill; needs level 1",
    "level 2 hvac skill; needs level 3", "not on duty", "at capacity (6 today of 6)", "at capacity (5 open of 5)",
    "3 open orders; at most 3 at once", "excluded by the order (e.g. declined it before)",
    "the order requires eng.chen", "away from 2026-12-01 until 2026-12-09", "42.0 km away; at most 30 km",
    "no engineers to consider", "no eligible engineer among 4 (excluded by skill: 2, region: 1)",
    # batch dispatch's reasons (dispatch.batch.plan, services.dispatch.batch)
    "no engineers in region(s) north, east", "no engineers in region(s) ",
    "its eligible engineers' free capacity went to other orders (higher priority or lower total cost)",
    "the record has no workflow", "action 'assign' is not available to you in state Review",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_each_message_has_a_chinese_form(message):
    zh = note_in(message, "zh-CN")
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    assert note_in(message, "en") == message and note_in(message, None) == message

