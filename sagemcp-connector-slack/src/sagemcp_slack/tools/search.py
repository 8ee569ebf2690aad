"""Group `search`: message search (needs a user token with `search:read`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sagemcp import Cursor, ToolContext, tool

from .. import _api
from .._messages import render_messages
from .._pagination import fit_budget, make_cursor, read_cursor, search_paging
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg, UserArg, WindowArg
from .._resolve import USER_ID_RE, Names
from .._time import parse_window, search_date
from ..models import Message, SearchResult

__all__ = ["SearchTools"]


def _size(message: Message) -> int:
    return len(message.text) + 300


class SearchTools:
    """Searching messages across the workspace."""

    @tool(read_only=True, group="search", scopes=("search:read",), token="user")
    async def search_messages(
        self,
        ctx: ToolContext,
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description=(
                    "Words to find. Slack modifiers work too: in:#channel, from:@handle, has:link, "
                    'before:2024-05-01, after:2024-04-01, "exact phrase".'
                ),
            ),
        ],
        in_channel: Annotated[ChannelArg | None, Field(description="Only this channel (id or #name).")] = None,
        from_user: Annotated[UserArg | None, Field(description="Only messages by this person.")] = None,
        window: WindowArg = None,
        sort: Annotated[
            Literal["score", "timestamp"], Field(description="score: most relevant first; timestamp: newest first.")
        ] = "score",
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> SearchResult:
        """Search messages across channels by keyword, person, channel or date, like Slack's search box.

        Needs a user token with search:read (bot tokens cannot search). Returns channel, author, text, time and
        permalink.
        """
        state = read_cursor(cursor)
        if state is not None:
            full_query, page, count, order = str(state["q"]), int(state["p"]), int(state["n"]), str(state["sort"])
            skip = int(state.get("o", 0))
        else:
            names = Names(ctx)
            terms = [query.strip()]
            if in_channel:
                channel_id = await names.channel_id(in_channel)
                channel = await names.channel(channel_id)
                terms.append(f"in:#{channel['name']}" if channel.get("name") else f"in:<#{channel_id}>")
            if from_user:
                who = from_user.strip()
                if who.startswith("@"):
                    terms.append(f"from:{who}")
                else:
                    user_id = who if USER_ID_RE.match(who) else await names.user_id(who, "from_user")
                    terms.append(f"from:<@{user_id}>")
            if window:
                # `after:` excludes the day it names, so name the day before the window starts.
                terms.append(f"after:{search_date(parse_window(window), days_before=1)}")
            full_query, page, count, order = " ".join(terms), 1, limit, sort
            skip = 0
        data = await _api.read(
            ctx,
            "search.messages",
            {"query": full_query, "count": count, "page": page, "sort": order, "sort_dir": "desc", "highlight": False},
        )
        matches, pages, total = search_paging(data)
        messages = await render_messages(Names(ctx), matches[skip:])
        kept, cut = fit_budget(messages, _size)
        more = pages is not None and page < pages
        if cut:
            # The rest of this Slack page comes first: same page, skipping what was shown.
            next_cursor = make_cursor(q=full_query, p=page, n=count, sort=order, o=skip + len(kept))
        elif more:
            next_cursor = make_cursor(q=full_query, p=page + 1, n=count, sort=order)
        else:
            next_cursor = None
        return SearchResult(
            items=kept,
            next_cursor=next_cursor,
            truncated=cut,
            query=full_query,
            total=total,
        )
