"""`/api/v1/audio/lexicons` against a real router: made from PLS and JSON, listed, read,
deleted, per user, bounded, audited; and named by speech requests or a key's defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from lexicons.conftest import MAX_ENTRIES, MAX_PER_REQUEST, MAX_PER_USER

PATH = "/api/v1/audio/lexicons"
PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Nguyen</grapheme><phoneme>ŋwˈɪn</phoneme></lexeme>
  <lexeme><grapheme>W3C</grapheme><alias>World Wide Web Consortium</alias></lexeme>
</lexicon>
"""
Clients = Callable[..., httpx.Client]


def _json_lexicon(client: httpx.Client, *entries: dict[str, str], name: str = "terms") -> Any:
    response = client.post(PATH, json={"name": name, "entries": list(entries)})
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _preview(client: httpx.Client, text: str, **extra: Any) -> Any:
    body = {"model": "espeak", "voice": "alloy", "input": text, **extra}
    response = client.post("/api/v1/audio/text/normalize", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_pls_file_becomes_a_lexicon_with_its_entries(user_client: Clients) -> None:
    client = user_client()
    files = {"file": ("names.pls", PLS.encode(), "application/pls+xml")}
    made = client.post(PATH, files=files, data={"name": "names"})
    assert made.status_code == 200, made.text
    lexicon = made.json()
    assert (lexicon["name"], lexicon["lang"], lexicon["entry_count"]) == ("names", "en-US", 2)
    read = client.get(f"{PATH}/{lexicon['id']}").json()
    assert read["version"] == lexicon["version"]
    assert read["entries"] == [
        {"grapheme": "Nguyen", "phoneme": "ŋwˈɪn", "alias": None, "lang": "en-US"},
        {"grapheme": "W3C", "phoneme": None, "alias": "World Wide Web Consortium", "lang": "en-US"},
    ]


def test_json_entries_list_in_pages_and_delete(user_client: Clients) -> None:
    client = user_client()
    made = [
        _json_lexicon(client, {"grapheme": f"w{i}", "alias": "word"}, name=f"l{i}")
        for i in range(3)
    ]
    first = client.get(PATH, params={"limit": 2}).json()
    assert [x["id"] for x in first["data"]] == [m["id"] for m in made[:2]]
    assert first["has_more"] is True
    rest = client.get(PATH, params={"limit": 2, "after": first["last_id"]}).json()
    assert [x["id"] for x in rest["data"]] == [made[2]["id"]]
    assert rest["has_more"] is False

    deleted = client.delete(f"{PATH}/{made[0]['id']}")
    assert deleted.json() == {
        "id": made[0]["id"],
        "object": "audio.lexicon.deleted",
        "deleted": True,
    }
    assert _error(client.get(f"{PATH}/{made[0]['id']}"), 404)["code"] == "lexicon_not_found"


def test_another_users_lexicon_is_not_found_but_an_admin_sees_it(user_client: Clients) -> None:
    owner, stranger, admin = user_client(), user_client(), user_client("speech", "admin")
    lexicon = _json_lexicon(owner, {"grapheme": "Chorus", "alias": "Korus"})
    path = f"{PATH}/{lexicon['id']}"
    assert _error(stranger.get(path), 404)["param"] == "lexicon_id"
    assert _error(stranger.delete(path), 404)["code"] == "lexicon_not_found"
    assert stranger.get(PATH).json()["data"] == []
    refused = stranger.post(
        "/api/v1/audio/text/normalize",
        json={"model": "espeak", "input": "hi", "lexicons": [lexicon["id"]]},
    )
    assert _error(refused, 404)["param"] == "lexicons"
    assert admin.get(path).json()["owner"] == lexicon["owner"]
    assert admin.delete(path).status_code == 200
    assert _error(owner.get(path), 404)["code"] == "lexicon_not_found"


def test_bounds_are_4xx_naming_the_limit(user_client: Clients) -> None:
    client = user_client()
    many = [{"grapheme": f"w{i}", "alias": "a"} for i in range(MAX_ENTRIES + 1)]
    too_long = client.post(PATH, json={"entries": many})
    assert f"the maximum is {MAX_ENTRIES}" in _error(too_long, 400)["message"]
    neither = client.post(PATH, json={"entries": [{"grapheme": "x"}]})
    assert "a phoneme (IPA) or an alias" in _error(neither, 400)["message"]
    control = client.post(PATH, json={"entries": [{"grapheme": "a\u0000b", "alias": "x"}]})
    assert "control characters" in _error(control, 400)["message"]
    ids = [
        _json_lexicon(client, {"grapheme": "x", "alias": "y"})["id"] for _ in range(MAX_PER_USER)
    ]
    over = client.post(PATH, json={"entries": [{"grapheme": "x", "alias": "y"}]})
    assert f"{MAX_PER_USER} of {MAX_PER_USER} lexicons" in _error(over, 403)["message"]
    named = client.post(
        "/api/v1/audio/text/normalize",
        json={"model": "espeak", "input": "x", "lexicons": ids[: MAX_PER_REQUEST + 1]},
    )
    assert _error(named, 400)["param"] == "lexicons"


def test_a_bad_pls_file_is_a_400_with_line_and_column(user_client: Clients) -> None:
    client = user_client()
    broken = PLS.replace("</phoneme></lexeme>", "</lexeme>")
    files = {"file": ("names.pls", broken.encode(), "application/pls+xml")}
    error = _error(client.post(PATH, files=files), 400)
    assert error["param"] == "file"
    assert error["message"].startswith("PLS at line 4, column ")
    assert "mismatched tag" in error["message"]
    hostile = '<!DOCTYPE lexicon [<!ENTITY a "aaaa">]><lexicon>&a;</lexicon>'
    files = {"file": ("evil.pls", hostile.encode(), "application/pls+xml")}
    assert "DTD" in _error(client.post(PATH, files=files), 400)["message"]


def test_a_requests_lexicons_and_a_keys_defaults_apply(user_client: Clients) -> None:
    user = "lexicon-defaults"
    owner = user_client(user=user)
    lexicon = _json_lexicon(
        owner,
        {"grapheme": "W3C", "alias": "World Wide Web Consortium"},
        {"grapheme": "Nguyen", "phoneme": "ŋwˈɪn"},
    )
    named = _preview(owner, "Ask W3C and Nguyen.", lexicons=[lexicon["id"]])
    # espeak-ng takes no IPA: an entry without an alias leaves the written word.
    assert named["text"] == "Ask World Wide Web Consortium and Nguyen."
    assert [seg["phonemes"] for seg in named["segments"]] == [None]
    assert _preview(owner, "Ask W3C.")["text"] == "Ask W3C."

    with_defaults = user_client(user=user, lexicons=(lexicon["id"],))
    assert _preview(with_defaults, "Ask W3C.")["text"] == "Ask World Wide Web Consortium."
    assert _preview(with_defaults, "Ask W3C.", lexicons=[])["text"] == "Ask W3C."


def test_lexicon_changes_are_audited(user_client: Clients) -> None:
    user = "lexicon-audited"
    client, admin = user_client(user=user), user_client("admin")
    lexicon = _json_lexicon(client, {"grapheme": "x", "alias": "y"})
    client.delete(f"{PATH}/{lexicon['id']}")
    events = admin.get("/api/v1/admin/audit", params={"user": user}).json()["data"]
    assert [(e["action"], e["resource_id"], e["outcome"]) for e in events] == [
        ("lexicon.delete", lexicon["id"], "ok"),
        ("lexicon.create", lexicon["id"], "ok"),
    ]
