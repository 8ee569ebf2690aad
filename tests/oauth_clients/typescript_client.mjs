// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk) through a sagemcp server's OAuth flow.
//
// node typescript_client.mjs '<json options>'
//   options: { mcpUrl, otherUrl, email, password, redirectUrl, clientMetadataUrl? }
//
// The SDK discovers the authorization server from the 401, registers (RFC 7591) or uses the client
// ID metadata document URL, and calls redirectToAuthorization(url). That step is scripted here: a
// minimal browser (fetch with a cookie jar) follows the URL, signs in on the sign-in form, allows on
// the consent page and keeps the code of the final redirect, which finishAuth() exchanges. Then:
// tools/list, a tool call, a call after the access token expired (the SDK refreshes), and the
// access token on another tenant's endpoint. Prints one JSON line with what happened.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const options = JSON.parse(process.argv[2]);
const origin = new URL(options.mcpUrl).origin;

class Browser {
  constructor() {
    this.cookies = new Map();
  }

  async fetch(url, init = {}) {
    const headers = new Headers(init.headers || {});
    if (this.cookies.size) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await fetch(new URL(url, origin), { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const [name, ...value] = pair.split("=");
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join("=").trim());
    }
    return response;
  }
}

function field(html, name) {
  const found = new RegExp(`name="${name}" value="([^"]+)"`).exec(html);
  if (!found) throw new Error(`no ${name} field in: ${html.slice(0, 500)}`);
  return found[1].replaceAll("&#34;", '"').replaceAll("&amp;", "&");
}

function expect(response, status) {
  if (response.status !== status) throw new Error(`expected HTTP ${status}, got ${response.status} for ${response.url}`);
  return response;
}

class ScriptedProvider {
  constructor() {
    this._tokens = undefined;
    this._client = undefined;
    this._verifier = undefined;
    this.code = undefined;
    this.savedTokens = [];
    this.authorizations = 0;
    if (options.clientMetadataUrl) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl() {
    return options.redirectUrl;
  }

  get clientMetadata() {
    return {
      client_name: "TypeScript SDK test client",
      redirect_uris: [options.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: options.clientMetadataUrl ? "none" : "client_secret_basic",
    };
  }

  clientInformation() {
    return this._client;
  }

  saveClientInformation(info) {
    this._client = info;
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this._tokens = tokens;
    this.savedTokens.push(tokens);
  }

  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }

  codeVerifier() {
    return this._verifier;
  }

  async redirectToAuthorization(authorizationUrl) {
    this.authorizations += 1;
    const browser = new Browser();
    const toConsent = expect(await browser.fetch(authorizationUrl), 302).headers.get("location");
    const toSignin = expect(await browser.fetch(toConsent), 303).headers.get("location");
    const signinPage = await expect(await browser.fetch(toSignin), 200).text();
    const next = new URL(toSignin, origin).searchParams.get("next");
    const signedIn = await browser.fetch("/signin", {
      method: "POST",
      body: new URLSearchParams({
        email: options.email,
        password: options.password,
        csrf_token: field(signinPage, "csrf_token"),
        next,
      }),
    });
    const back = expect(signedIn, 303).headers.get("location");
    const consentPage = await expect(await browser.fetch(back), 200).text();
    this.consentPage = consentPage;
    const allowed = await browser.fetch("/oauth/consent", {
      method: "POST",
      body: new URLSearchParams({
        csrf_token: field(consentPage, "csrf_token"),
        request: field(consentPage, "request"),
        decision: "allow",
      }),
    });
    const redirect = new URL(expect(allowed, 303).headers.get("location"));
    if (redirect.searchParams.get("iss") !== origin) throw new Error(`unexpected iss in ${redirect}`);
    this.code = redirect.searchParams.get("code");
  }
}

async function connect(provider) {
  const client = new Client({ name: "sagemcp-typescript-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(options.mcpUrl), { authProvider: provider });
  try {
    await client.connect(transport);
    return client;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    await transport.finishAuth(provider.code);
    const retry = new Client({ name: "sagemcp-typescript-test", version: "1.0.0" });
    await retry.connect(new StreamableHTTPClientTransport(new URL(options.mcpUrl), { authProvider: provider }));
    return retry;
  }
}

const provider = new ScriptedProvider();
const client = await connect(provider);
const tools = (await client.listTools()).tools.map((t) => t.name).sort();
const added = await client.callTool({ name: "demo_add", arguments: { a: 2, b: 3 } });
const firstTokens = provider.tokens();

await new Promise((resolve) => setTimeout(resolve, (options.waitSeconds ?? 11) * 1000));
const echoed = await client.callTool({ name: "demo_echo", arguments: { text: "after refresh" } });
const secondTokens = provider.tokens();
await client.close();

const listing = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
const headers = {
  authorization: `Bearer ${secondTokens.access_token}`,
  accept: "application/json, text/event-stream",
  "content-type": "application/json",
};
const elsewhere = await fetch(options.otherUrl, { method: "POST", headers, body: listing });

console.log(
  JSON.stringify({
    tools,
    sum: added.structuredContent?.sum,
    echoed: JSON.stringify(echoed.content),
    clientId: provider.clientInformation()?.client_id,
    authMethod: provider.clientInformation()?.token_endpoint_auth_method,
    authorizations: provider.authorizations,
    savedTokens: provider.savedTokens.length,
    refreshed: firstTokens.refresh_token !== secondTokens.refresh_token,
    accessPrefix: secondTokens.access_token.slice(0, 7),
    consentShowsClient: provider.consentPage.includes("TypeScript SDK test client"),
    otherTenantStatus: elsewhere.status,
  }),
);
