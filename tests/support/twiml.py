"""Element-by-element checks of the TwiML the app produced (xml.etree, via ivr.callsim.Turn)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ivr.menus.model import Menu
from routing import RouteKind
from tests.support.voice import BASE_URL


def query(url: str) -> dict[str, str]:
    """Return an URL's query as a flat dict."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def assert_url(url: str | None, path: str) -> dict[str, str]:
    """Assert `url` is PUBLIC_BASE_URL + `path`; return its query."""
    assert url is not None, f"no URL where {path} was expected"
    assert url.startswith(BASE_URL + path + "?") or url == BASE_URL + path, url
    return query(url)


def assert_say(el, hotline) -> None:
    assert el.tag == "Say", el.tag
    assert el.get("voice") == hotline.voice and el.get("language") == hotline.language
    assert (el.text or "").strip(), "empty <Say>"


def assert_gather(turn, hotline, node) -> None:
    """The call waits at a DTMF <Gather> for `node` in the hotline's language and voice."""
    assert turn.kind == "gather", turn.body
    g = turn.verb
    assert g.get("input") == "dtmf"
    assert g.get("method") == "POST"
    assert g.get("actionOnEmptyResult") == "true"
    assert g.get("language") == hotline.language
    assert g.get("timeout") == str(node.timeout)
    if isinstance(node, Menu):
        assert g.get("numDigits") == "1" and g.get("finishOnKey") == ""
    else:
        assert g.get("finishOnKey") == "#"
    assert_url(g.get("action"), "/voice/menu")
    says = g.findall("Say")
    assert len(says) == 1 and says[0].text == node.prompt
    assert_say(says[0], hotline)
    children = list(turn.root)
    assert children[-1].tag == "Redirect" and children[-1].text == g.get("action")
    for el in children[:-2]:
        assert_say(el, hotline)


def assert_dial_step(turn, step, decision, index: int) -> None:
    """The call waits at the <Dial> of escalation step `index`."""
    assert turn.kind == "dial", turn.body
    d = turn.verb
    assert d.get("timeout") == str(step.timeout)
    assert d.get("answerOnBridge") == "true"
    assert d.get("callerId", "").startswith("+")
    q = assert_url(d.get("action"), "/voice/dial")
    assert q["s"] == decision.service and q["i"] == str(index)
    numbers = d.findall("Number")
    assert [n.text for n in numbers] == list(step.numbers)
    for n in numbers:
        if step.screen and decision.route is not RouteKind.EMERGENCY:
            sq = assert_url(n.get("url"), "/voice/screen")
            assert sq["i"] == str(index) and sq["line"] == decision.line
        else:
            assert n.get("url") is None, "unscreened/emergency steps have no whisper"
    assert list(turn.root)[-1] is d


def assert_end(turn, decision) -> None:
    """The call is at the chain's configured end."""
    kind = decision.exhausted.kind.value
    if decision.route is RouteKind.EMERGENCY:
        assert turn.kind != "record", "emergency never ends in voicemail"
    if kind == "voicemail":
        assert turn.kind == "record", turn.body
        r = turn.verb
        assert_url(r.get("action"), "/voice/recorded")
        assert_url(r.get("recordingStatusCallback"), "/voice/recording")
        assert r.get("playBeep") == "true" and r.get("finishOnKey") == "#"
        assert int(r.get("maxLength")) > 0
        if decision.exhausted.message:
            assert decision.exhausted.message in turn.says
    elif kind == "dial":
        assert turn.kind == "dial", turn.body
        assert turn.numbers[0][0] == decision.exhausted.number and turn.numbers[0][1] is None
        q = assert_url(turn.verb.get("action"), "/voice/dial")
        assert q["i"] == str(len(decision.steps))
    else:
        assert turn.kind == "hangup", turn.body
        assert [v.tag for v in turn.root][-1] == "Hangup"
        if decision.exhausted.message:
            assert decision.exhausted.message in turn.says
