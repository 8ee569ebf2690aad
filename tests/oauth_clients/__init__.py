"""MCP clients other than the Python SDK's, driven through the server's OAuth flow."""
