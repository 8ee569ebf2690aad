"""Slack mrkdwn <-> Markdown, and canvas HTML -> Markdown."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from sagemcp_slack._html import html_to_markdown
from sagemcp_slack._mrkdwn import mentioned_ids, to_markdown, to_mrkdwn

USERS = {"U0AAAAAAA": "alice"}
CHANNELS = {"C0CCCCCCC": "ops"}


def test_formatting_to_markdown() -> None:
    assert to_markdown("*bold* _italic_ ~strike~ `*code*`") == "**bold** _italic_ ~~strike~~ `*code*`"
    assert to_markdown("a*b*c and 2*3*4") == "a*b*c and 2*3*4"  # not emphasis inside words
    assert to_markdown("• one\n• two") == "- one\n- two"
    assert to_markdown("```\n*not bold* &lt;tag&gt;\n```") == "```\n*not bold* <tag>\n```"


def test_tokens_to_markdown() -> None:
    text = "<@U0AAAAAAA> <@U0BBBBBBB> <#C0CCCCCCC> <#C0DDDDDDD|dev> <!here> <!subteam^S0123|@oncall> <!date^1392734382^{date}|Feb 18>"
    assert to_markdown(text, USERS, CHANNELS) == "@alice @U0BBBBBBB #ops #dev @here @oncall Feb 18"
    assert (
        to_markdown("<https://a.example/x_y_z?a=1&amp;b=2|the *doc*>") == "[the *doc*](https://a.example/x_y_z?a=1&b=2)"
    )
    assert to_markdown("<https://a.example>") == "<https://a.example>"
    assert to_markdown("<mailto:a@b.example|Ann>") == "[Ann](mailto:a@b.example)"
    assert to_markdown("a &lt; b &amp;&amp; c &gt; d") == "a < b && c > d"


def test_mentioned_ids() -> None:
    users, channels = mentioned_ids("hi <@U0AAAAAAA|al> in <#C0CCCCCCC> and <#C0DDDDDDD|dev>")
    assert users == {"U0AAAAAAA"}
    assert channels == {"C0CCCCCCC"}  # a labelled link needs no lookup


def test_markdown_to_mrkdwn() -> None:
    assert to_mrkdwn("# Title\n**bold** *it* ~~gone~~") == "*Title*\n*bold* _it_ ~gone~"
    assert to_mrkdwn("see [docs](https://x.example/a_b) & <@U0AAAAAAA> <!here>") == (
        "see <https://x.example/a_b|docs> &amp; <@U0AAAAAAA> <!here>"
    )
    assert to_mrkdwn("- one\n* two\n> quoted <b>") == "• one\n• two\n> quoted &lt;b&gt;"
    assert to_mrkdwn("```python\nif a < b:\n    pass\n```") == "```\nif a &lt; b:\n    pass\n```"
    assert to_mrkdwn("`x < y`") == "`x &lt; y`"


_SLACK_TOKEN = re.compile(r"<(?:[@#!][^<>\s|]+|(?:https?|mailto):[^<>\s|]+)(?:\|[^<>\n]*)?>")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_mrkdwn_output_never_has_stray_angle_brackets(text: str) -> None:
    out = _SLACK_TOKEN.sub("", to_mrkdwn(text))
    out = re.sub(r"^> ", "", out, flags=re.MULTILINE)
    assert "<" not in out and ">" not in out
    assert "\x00" not in out and "\x01" not in out


@given(st.text(alphabet="abc *_~`<>&@#!|\n", max_size=80))
def test_to_markdown_never_fails_and_never_leaks_placeholders(text: str) -> None:
    out = to_markdown(text, USERS, CHANNELS)
    assert "\x00" not in out


def test_canvas_html_to_markdown() -> None:
    html = (
        "<h2>Plan</h2><p>Do <i>this</i> &amp; <code>that</code><br>then</p>"
        "<ul><li>a<ul><li>nested</li></ul></li></ul><pre>x  = 1</pre><blockquote>quote</blockquote>"
        "<table><tr><th>k</th><th>v</th></tr><tr><td>1</td><td>2</td></tr></table><script>alert(1)</script>"
    )
    assert html_to_markdown(html) == (
        "## Plan\n\nDo _this_ & `that`  \nthen\n\n- a\n  - nested\n\n```\nx  = 1\n```\n\n> quote\n\n| k | v |\n| 1 | 2 |"
    )
