"""The `Connector` base class and its metadata, `ConnectorInfo`.

A connector is a class, never an instance with state: its tools receive all
per-call state in a `ToolContext`. The class is checked when it is defined
(tool names, duplicates, schemas), so a broken connector fails at import, with a
message, rather than at the first call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._auth import AuthScheme, NoAuth, OAuth2
from ._models import Credential, ToolPolicy
from ._prompts import PromptSpec, build_prompt_spec, declared_prompts
from ._resources import ResourceSpec, declared_resources
from ._tools import ToolSpec, build_tool_spec, declared_tools
from .errors import DefinitionError

if TYPE_CHECKING:
    from ._context import ToolContext
    from ._upstream import UpstreamResponse
    from .errors import UpstreamError

__all__ = ["CORE_API", "Completion", "Connector", "ConnectorInfo", "ConnectorSettings"]

CORE_API = 1
"""The connector API version of this core. A connector declaring another is refused by the registry."""

_ID_RE = re.compile(r"^[a-z][a-z0-9]{0,31}$")


class ConnectorInfo(BaseModel):
    """Validated, listable metadata of a connector; reading it calls no upstream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Short id, also the entry-point name and the tool-name prefix.")
    title: str
    description: str
    homepage: str = ""
    version: str = "0"
    core_api: int = CORE_API
    default_groups: tuple[str, ...] | None = None
    """Tool groups enabled when a tenant's policy names none; None means every group."""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("connector id must be 1-32 lowercase letters or digits, starting with a letter")
        return value


class ConnectorSettings(BaseModel):
    """Base for a connector's per-tenant configuration model; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Completion(BaseModel):
    """Suggestions for a prompt or resource-template argument."""

    values: list[str]
    total: int | None = None
    has_more: bool = False


class Connector:
    """Base class of every connector.

    Subclasses set `info`, `auth` (one or more schemes), optionally `Config`,
    `base_url` and `provider`, and declare tools with `@tool`, resources with
    `@resource` and prompts with `@prompt`.
    """

    info: ClassVar[ConnectorInfo]
    auth: ClassVar[Sequence[AuthScheme]] = (NoAuth(),)
    Config: ClassVar[type[BaseModel]] = ConnectorSettings
    base_url: ClassVar[str] = ""
    extra_origins: ClassVar[tuple[str, ...]] = ()
    """Origins (`https://host[:port]`, no path) besides the base URL's that `ctx.http` calls with the
    tenant's credential, such as a file host (`https://files.slack.com`); see `credential_origins`."""
    provider: ClassVar[str | None] = None
    """Credential provider key shared by connectors of one OAuth app; defaults to `info.id`."""

    tools: ClassVar[dict[str, ToolSpec]] = {}
    resources: ClassVar[tuple[ResourceSpec, ...]] = ()
    prompts: ClassVar[dict[str, PromptSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        info = cls.__dict__.get("info")
        if info is None:
            return  # an abstract intermediate class
        if not isinstance(info, ConnectorInfo):
            raise DefinitionError(f"{cls.__qualname__}.info must be a ConnectorInfo")
        if not cls.auth:
            raise DefinitionError(f"{cls.__qualname__}.auth must list at least one scheme (NoAuth() for none)")
        for scheme in cls.auth:
            if isinstance(scheme, OAuth2) and not (scheme.authorize_url and scheme.token_url):
                raise DefinitionError(f"{cls.__qualname__}: OAuth2 needs authorize_url and token_url")
        tools: dict[str, ToolSpec] = {}
        resources: dict[str, ResourceSpec] = {}
        prompts: dict[str, PromptSpec] = {}
        for klass in reversed(cls.__mro__):
            for decl in declared_tools(vars(klass)):
                spec = build_tool_spec(info.id, decl)
                earlier = tools.get(spec.name)
                if earlier is not None and klass is cls and getattr(earlier.func, "__wrapped__", None) is not decl.func:
                    raise DefinitionError(f"{cls.__qualname__}: duplicate tool name {spec.name!r}")
                tools[spec.name] = spec
            for res in declared_resources(vars(klass)):
                if res.uri in resources and klass is cls:
                    raise DefinitionError(f"{cls.__qualname__}: duplicate resource URI {res.uri!r}")
                resources[res.uri] = res
            for pdecl in declared_prompts(vars(klass)):
                pspec = build_prompt_spec(info.id, pdecl)
                if pspec.name in prompts and klass is cls:
                    raise DefinitionError(f"{cls.__qualname__}: duplicate prompt name {pspec.name!r}")
                prompts[pspec.name] = pspec
        groups = {s.group for s in tools.values()}
        for g in info.default_groups or ():
            if g not in groups:
                raise DefinitionError(f"{cls.__qualname__}: default group {g!r} has no tools")
        cls.tools = tools
        cls.resources = tuple(resources.values())
        cls.prompts = prompts

    # -- class-level helpers -------------------------------------------------------------

    @classmethod
    def provider_id(cls) -> str:
        return cls.provider or cls.info.id

    @classmethod
    def groups(cls) -> list[str]:
        return sorted({s.group for s in cls.tools.values()})

    @classmethod
    def oauth2(cls) -> OAuth2 | None:
        return next((s for s in cls.auth if isinstance(s, OAuth2)), None)

    @classmethod
    def scheme_for(cls, kind: str) -> AuthScheme | None:
        return next((s for s in cls.auth if s.kind == kind), None)

    @classmethod
    def oauth_scopes(cls, policy: ToolPolicy | None) -> list[str]:
        """The scopes an authorization asks for: `OAuth2.scopes`, then those the enabled tools need.

        The tools' `@tool(scopes=...)` are the one source; tools declared with the `token=` of
        one of the scheme's linked tokens ask through `linked_oauth_scopes` instead. `policy`
        None means every tool: all the scopes the connector may ever ask for.
        """
        scheme = cls.oauth2()
        linked = {t.name for t in scheme.linked_tokens} if scheme is not None else set()
        always = scheme.scopes if scheme is not None else ()
        needed = {s for spec in cls._scoped_tools(policy) if spec.token not in linked for s in spec.scopes}
        return _ordered(always, needed)

    @classmethod
    def linked_oauth_scopes(cls, policy: ToolPolicy | None) -> dict[str, list[str]]:
        """Each linked token's scopes (its `LinkedToken.scopes`, then those of the enabled tools
        declared with its `token=`), leaving out tokens that need none, so none is requested."""
        scheme = cls.oauth2()
        if scheme is None:
            return {}
        tools = cls._scoped_tools(policy)
        wanted = {
            t.name: _ordered(t.scopes, {s for spec in tools if spec.token == t.name for s in spec.scopes})
            for t in scheme.linked_tokens
        }
        return {name: scopes for name, scopes in wanted.items() if scopes}

    @classmethod
    def _scoped_tools(cls, policy: ToolPolicy | None) -> list[ToolSpec]:
        return list(cls.tools.values()) if policy is None else cls.enabled_tools(policy)

    @classmethod
    def needs_credential(cls) -> bool:
        return not all(isinstance(s, NoAuth) for s in cls.auth)

    @classmethod
    def tool_enabled(cls, spec: ToolSpec, policy: ToolPolicy) -> bool:
        """Whether `policy` lets `spec` be listed and called."""
        if spec.name in policy.exclude_tools:
            return False
        if policy.read_only and not spec.read_only:
            return False
        if spec.name in policy.include_tools:
            return True
        groups = policy.groups if policy.groups is not None else cls.info.default_groups
        return groups is None or spec.group in groups

    @classmethod
    def enabled_tools(cls, policy: ToolPolicy) -> list[ToolSpec]:
        return [s for s in cls.tools.values() if cls.tool_enabled(s, policy)]

    @classmethod
    def parse_config(cls, configuration: dict[str, Any]) -> BaseModel:
        """Validate a tenant's configuration with the connector's `Config` model."""
        return cls.Config.model_validate(configuration)

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """The upstream base URL for a tenant's configuration and credential (None when there is none).

        Override for per-tenant hosts (GitHub Enterprise) or hosts that depend on the
        credential: Atlassian OAuth and scoped API tokens call
        `https://api.atlassian.com/ex/jira/{cloudId}`, classic API tokens the site itself.
        A function of these two only: the adapter builds each tenant's `ctx.http` once per
        credential object (a refreshed or replaced credential gets a new one).
        """
        return cls.base_url

    @classmethod
    def credential_origins(cls, config: BaseModel, credential: Credential | None) -> tuple[str, ...]:
        """Origins besides `api_base_url`'s that receive the credential; `extra_origins` by default.

        `ctx.http.get("https://docs.googleapis.com/v1/...")` carries the tenant's auth
        headers and params when that origin is listed here (scheme, host and port must
        match exactly; https only, or plain http on loopback for local fakes). An absolute
        URL on any other origin is refused; `ctx.http.for_origin(...)` reaches such a host
        without the credential. Override to derive origins from the configuration or the
        credential, like `api_base_url`.
        """
        return cls.extra_origins

    # -- instance hooks (instances are shared and stateless) ------------------------------

    def upstream_headers(self, config: BaseModel, credential: Credential | None) -> dict[str, str]:
        """Extra headers on every upstream request (API version headers and the like).

        A function of the configuration and the credential only: the adapter builds
        each tenant's upstream client once per credential and reuses it across calls.
        """
        return {}

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Map a provider-specific failure (such as Slack's `ok: false` on HTTP 200) to an error, or None."""
        return None

    async def complete(
        self, ctx: ToolContext, ref_type: str, ref_name: str, argument: str, value: str, context: dict[str, str]
    ) -> Completion:
        """Suggest values for a prompt (`ref_type` "prompt") or template ("resource") argument."""
        return Completion(values=[])


def _ordered(always: Sequence[str], needed: set[str]) -> list[str]:
    """`always` in its order, then the other needed scopes sorted: the same URL whatever the tool order."""
    return list(dict.fromkeys([*always, *sorted(needed - set(always))]))
