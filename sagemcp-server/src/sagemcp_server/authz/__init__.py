"""The built-in OAuth 2.1 authorization server for MCP clients, and access tokens at the MCP endpoints.

- `setup`: the mode (`SAGEMCP_AUTH_MODE`: builtin, external, off), built once per process;
- `store`: clients, authorization codes and tokens in SQL (`services.authz`);
- `provider`: the MCP SDK's authorization-server provider over the store;
- `routes` and `consent`: the endpoints and the consent page;
- `clients` and `metadata_documents`: what clients may register, Client ID Metadata Documents;
- `verifier`: the `TokenVerifier` of this server's access tokens; `external`: an external issuer's JWTs;
- `maintenance`: the periodic purge of expired codes and tokens.

Besides core's `sagemcp.mcp`, this package is the only place that imports the MCP SDK.
"""
