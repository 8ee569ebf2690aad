// One MCP session by an official TypeScript client against a sagemcp endpoint, printed as one JSON line.
//
//   node typescript_client.mjs v1|v2 URL API_KEY TOOL
//
// v1 is `@modelcontextprotocol/sdk` 1.x (the 2025-11-25 handshake), v2 is `@modelcontextprotocol/client` 2.x
// (2026-07-28). The client lists the tools and calls TOOL with no arguments; the output is
// {"ok": true, "protocolVersion", "tools", "text"} or {"ok": false, "error"} when anything was refused.
const [flavour, url, key, toolName] = process.argv.slice(2);

async function load() {
  if (flavour === "v1") {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    return { Client, StreamableHTTPClientTransport };
  }
  const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client");
  return { Client, StreamableHTTPClientTransport };
}

async function main() {
  const { Client, StreamableHTTPClientTransport } = await load();
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  // v2 negotiates the handshake by default; pinning 2026-07-28 makes it speak the modern era only.
  const options = flavour === "v1" ? {} : { versionNegotiation: { mode: { pin: "2026-07-28" } } };
  const client = new Client({ name: `sagemcp-interop-${flavour}`, version: "1.0.0" }, options);
  try {
    await client.connect(transport);
    const listed = await client.listTools();
    const called = await client.callTool({ name: toolName, arguments: {} });
    const text = (called.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
    const version = transport.protocolVersion ?? null;
    console.log(JSON.stringify({ ok: true, protocolVersion: version, tools: listed.tools.map((t) => t.name), text, isError: !!called.isError }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
  } finally {
    await client.close().catch(() => {});
  }
}

await main();
