// The organisation's identity provider for the web UI tests: npm's oidc-provider (certified)
// with its built-in login form, PKCE required, and three people: alice (in the xares-admins
// group), bob, and carol (no broker user until her first sign-in). Any password is accepted.
// Started by tests/EndToEnd.Tests/WebUi/SsoProvider.cs; prints its issuer URL when listening.
//
// Env: PORT, CLIENT_SECRET (the broker's client "xares-ui"), REDIRECT_URI (the broker's callback).
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
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  features: { devInteractions: { enabled: true } },
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
