"""A list page names the records its lookup fields point to (`titles`), in the same call — and only
those the caller may read: the linked form's read grant, its row rules and field grants hold."""
SITE = {"title": "Site", "title_field": "name", "fields": [{"name": "name", "type": "text"}, {"name": "owner", "type": "text"}],
        "permissions": {"create": ["admin"], "read": ["tech", "boss"], "rows": {"tech": "owner == $user.id"}}}
VISIT = {"title": "Visit", "fields": [{"name": "site", "type": "lookup", "form": "site"}, {"name": "note", "type": "text"}],
         "permissions": {"create": ["admin"], "read": ["tech", "boss", "guest"]}}


def test_list_pages_carry_the_titles_the_caller_may_read(api):
    assert api.call("POST", "/definitions/form/site/versions", body=SITE).status_code == 201
    assert api.call("POST", "/definitions/form/visit/versions", body=VISIT).status_code == 201
    mine = api.call("POST", "/forms/site/records", body={"data": {"name": "Harbour plant", "owner": "ann"}}).json
    theirs = api.call("POST", "/forms/site/records", body={"data": {"name": "Secret lab", "owner": "bob"}}).json
    for site in (mine, theirs):
        assert api.call("POST", "/forms/visit/records", body={"data": {"site": site["id"], "note": "x"}}).status_code == 201
    ann = api.call("GET", "/forms/visit/records", user="ann", roles=["tech"]).json
    assert len(ann["items"]) == 2 and ann["titles"] == {mine["id"]: "Harbour plant"}  # not bob's site
    boss = api.call("GET", "/forms/visit/records", user="carl", roles=["boss"]).json
    assert boss["titles"] == {mine["id"]: "Harbour plant", theirs["id"]: "Secret lab"}
    guest = api.call("GET", "/forms/visit/records", user="gus", roles=["guest"]).json
    assert guest["titles"] == {}  # may not read sites at all
