// A real OAuth 2.0 / OpenID Connect authorization server for the broker's connection tests:
// npm's oidc-provider (certified), with the device authorization grant, refresh-token rotation,
// short access tokens, introspection (RFC 7662) and revocation (RFC 7009). Started by
// tests/EndToEnd.Tests/Connections/OidcProviderProcess.cs; prints its issuer URL when listening.
//
// Env: PORT (0 = any), CLIENT_SECRET (the broker's client), GIT_CLIENT_SECRET (the git server's,
// for introspection), ACCESS_TTL seconds (default 30).
//
// Test-only routes under /_test (never part of a real server): approve or deny a user code
// without a browser, arm faults (the next token request answers 500, slow_down or hangs; the
// next userinfo call answers 500), change the device code lifetime, and read counters.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 0);
const accessTtl = Number(process.env.ACCESS_TTL ?? 30);
let deviceTtl = 600;
const counters = { refreshSuccess: 0, refreshError: 0, refreshErrors: [], deviceSuccess: 0, tokenRequests: 0, revocations: 0, userinfo: 0 };
const grants = [];
const faults = { token500: 0, tokenSlowDown: 0, tokenHang: 0, userinfo500: 0 };

function normalize(code) {
  return String(code).replace(/[^A-Za-z]/g, '').toUpperCase();
}

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'xares',
      client_secret: process.env.CLIENT_SECRET,
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'git-server',
      client_secret: process.env.GIT_CLIENT_SECRET,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true },
  },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    DeviceCode: () => deviceTtl,
    RefreshToken: 86400,
    Grant: 86400,
    IdToken: 3600,
  },
  cookies: { keys: ['xares-test-cookie-key'] },
});
provider.proxy = false;

provider.on('device_authorization.success', (ctx, body) => { body.interval = 1; });
provider.on('grant.success', (ctx) => {
  const type = ctx.oidc.params?.grant_type;
  if (type === 'refresh_token') counters.refreshSuccess += 1;
  if (type === 'urn:ietf:params:oauth:grant-type:device_code') counters.deviceSuccess += 1;
});
provider.on('grant.error', (ctx, error) => {
  if (ctx.oidc?.params?.grant_type === 'refresh_token') {
    counters.refreshError += 1;
    counters.refreshErrors.push(error.error ?? String(error));
  }
});
provider.on('grant.revoked', () => { counters.revocations += 1; });

async function approve(userCode, accountId, deny) {
  const code = await provider.DeviceCode.findByUserCode(normalize(userCode));
  if (!code) return false;
  if (deny) {
    Object.assign(code, { error: 'access_denied', errorDescription: 'End-User denied the request' });
  } else {
    const scope = code.params?.scope ?? 'openid offline_access';
    const grant = new provider.Grant({ accountId, clientId: code.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    grants.push(grantId);
    Object.assign(code, { accountId, grantId, scope, authTime: Math.floor(Date.now() / 1000) });
  }
  await code.save();
  return true;
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/_test/')) {
    const q = Object.fromEntries(url.searchParams);
    switch (url.pathname) {
      case '/_test/approve':
        return json(res, await approve(q.user_code, q.account ?? 'alice', false) ? 200 : 404, {});
      case '/_test/deny':
        return json(res, await approve(q.user_code, null, true) ? 200 : 404, {});
      case '/_test/fault':
        for (const key of Object.keys(faults)) if (q[key]) faults[key] = Number(q[key]);
        return json(res, 200, faults);
      case '/_test/revoke-grants':
        // The user revoked the app at the provider: every refresh token stops working (invalid_grant).
        for (const id of grants.splice(0)) await (await provider.Grant.find(id))?.destroy();
        return json(res, 200, {});
      case '/_test/device-ttl':
        deviceTtl = Number(q.seconds);
        return json(res, 200, {});
      case '/_test/counters':
        return json(res, 200, counters);
      case '/_test/reset':
        Object.assign(counters, { refreshSuccess: 0, refreshError: 0, refreshErrors: [], deviceSuccess: 0, tokenRequests: 0, revocations: 0, userinfo: 0 });
        for (const key of Object.keys(faults)) faults[key] = 0;
        return json(res, 200, {});
      default:
        return json(res, 404, {});
    }
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    counters.tokenRequests += 1;
    if (faults.token500 > 0) {
      faults.token500 -= 1;
      return json(res, 500, { error: 'server_error' });
    }
    if (faults.tokenSlowDown > 0) {
      faults.tokenSlowDown -= 1;
      return json(res, 400, { error: 'slow_down' });
    }
    if (faults.tokenHang > 0) {
      faults.tokenHang -= 1;
      return; // never answers: the client's timeout decides
    }
  }
  if (url.pathname === '/me') {
    counters.userinfo += 1;
    if (faults.userinfo500 > 0) {
      faults.userinfo500 -= 1;
      return json(res, 500, { error: 'server_error' });
    }
  }
  return callback(req, res);
});

process.stdout.write(`${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
