"""A refused config edit cannot take the line down: the app serves the last config that loaded."""
import pytest

from ivr import create_app
from ivr.config import ConfigErrors
from ivr.config.lastgood import load_or_last_good
from tests.examples import EXAMPLES

BRONDBY = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")


def test_good_config_is_kept_and_served_when_the_next_edit_is_refused(tmp_path, monkeypatch, caplog):
    live = tmp_path / "hotlines"
    live.mkdir()
    (live / "brondby.yaml").write_text(BRONDBY, encoding="utf-8")
    keep = tmp_path / "keep"
    good, refused = load_or_last_good(live, keep)
    assert refused == [] and (keep / "brondby.yaml").read_text(encoding="utf-8") == BRONDBY

    (live / "brondby.yaml").write_text(BRONDBY.replace('number: "4328 2020"', 'number: "4328"'), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(live))
    monkeypatch.setenv("HOTLINE_LAST_GOOD_DIR", str(keep))
    app = create_app(redis_url=None, auth_token="t", public_base_url=None, spool_dir=str(tmp_path / "spool"),
                     verify_signatures=False)
    assert app.extensions["hotline"].config.version == good.version
    health = app.test_client().get("/healthz").get_json()
    assert health["config_refused"] == 1 and "config_refused" in health["reasons"]
    assert any("HOTLINE_CONFIG REFUSED" in r.getMessage() and "contacts.nexus_team.number" in r.getMessage()
               for r in caplog.records)
    # the line still answers on the kept config
    resp = app.test_client().post("/voice", data={"CallSid": "CA" + "1" * 32, "To": "+4570112230",
                                                  "From": "+4534412350"})
    assert resp.status_code == 200 and b"<Gather" in resp.data
    # the refused files did not replace the kept copy
    assert (keep / "brondby.yaml").read_text(encoding="utf-8") == BRONDBY


def test_refused_without_a_kept_copy_still_refuses(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BRONDBY.replace("Europe/Copenhagen", "Mars/Olympus"), encoding="utf-8")
    with pytest.raises(ConfigErrors):
        load_or_last_good(bad, tmp_path / "keep")


def test_a_file_saved_between_the_load_and_the_copy_never_becomes_the_last_good_one(tmp_path, monkeypatch):
    from ivr.config import lastgood

    live = tmp_path / "brondby.yaml"
    live.write_text(BRONDBY, encoding="utf-8")
    keep = tmp_path / "keep"
    load_or_last_good(live, keep)                       # a good copy is kept
    real_load = lastgood.load_config

    def load_then_an_admin_saves_latin1(path):
        config = real_load(path)
        if path == live:
            live.write_bytes(BRONDBY.encode("latin-1", errors="replace"))
        return config

    monkeypatch.setattr(lastgood, "load_config", load_then_an_admin_saves_latin1)
    good, refused = load_or_last_good(live, keep)       # loaded the good bytes; the file changed after
    assert refused == []
    monkeypatch.setattr(lastgood, "load_config", real_load)
    served, refused = load_or_last_good(live, keep)     # the next start (a HUP) is refused ...
    assert refused and served.version == good.version   # ... and the kept copy still loads
