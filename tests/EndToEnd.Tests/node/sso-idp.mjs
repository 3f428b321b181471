// The organisation's identity provider for the web UI tests: npm's oidc-provider (certified)
// with its built-in login form, PKCE required, and three people: alice (in the xares-admins
// group), bob, and carol (no broker user until her first sign-in). Any password is accepted.
// Started by tests/EndToEnd.Tests/WebUi/SsoProvider.cs; prints its issuer URL when listening.
//
// It is also the OAuth provider that users connect accounts to from the web UI's Connections page:
// a second client, "xares-connect" (authorization code + PKCE, refresh tokens, revocation and
// introspection), whose redirect URI is the broker's /ui/connections/callback.
//
// Env: PORT, CLIENT_SECRET (the broker's client "xares-ui"), REDIRECT_URI (the broker's callback),
// CONNECT_CLIENT_SECRET and CONNECT_REDIRECT_URI (the "xares-connect" client; optional).
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 0);
const people = {
  alice: { email: 'alice@example.test', name: 'Alice Admin', groups: ['xares-admins', 'dev'] },
  bob: { email: 'bob@example.test', name: 'Bob Builder', groups: ['dev'] },
  carol: { email: 'carol@example.test', name: 'Carol New', groups: [] },
};

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'xares-ui',
    client_secret: process.env.CLIENT_SECRET,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [process.env.REDIRECT_URI],
    token_endpoint_auth_method: 'client_secret_post',
  }, ...(process.env.CONNECT_CLIENT_SECRET ? [{
    client_id: 'xares-connect',
    client_secret: process.env.CONNECT_CLIENT_SECRET,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [process.env.CONNECT_REDIRECT_URI],
    token_endpoint_auth_method: 'client_secret_basic',
  }] : [])],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
  },
  // Refresh tokens for a client allowed the refresh_token grant (xares-connect), without offline_access.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
  // A first-party client: no consent screen.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope);
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, sub) => {
    const person = people[sub];
    if (!person) return undefined;
    return { accountId: sub, claims: async () => ({ sub, email: person.email, email_verified: true, name: person.name, groups: person.groups }) };
  },
  cookies: { keys: ['xares-test-sso-cookie-key'] },
});
provider.proxy = false;

server.on('request', provider.callback());
process.stdout.write(`${issuer}\n`);
