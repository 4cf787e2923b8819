// A real OpenID provider (oidc-provider, pinned in tests/e2e/node/package.json) for the login
// and refresh tests. Listens on an ephemeral 127.0.0.1 port and prints `PORT <n>` on stdout
// once it accepts connections.
//
//   node tests/oidc/server.mjs     # oidc-provider from .tools/node (NODE_MODULES=dir overrides)
//
// One public client, `switchyard-test`: authorization code with PKCE (S256, required),
// the device grant, refresh tokens with rotation (a used refresh token is consumed; reusing
// it is `invalid_grant` and revokes the grant), revocation. Redirect URIs are the providers'
// loopback callbacks; as a native client any loopback port is accepted (RFC 8252 §7.3).
// `devInteractions` serves plain login and consent forms a test submits as a user would.
// Accounts: any login name; claims are only `sub` unless OIDC_EMAIL=1 (then also `email`),
// so the tests exercise the missing-claims fallback by default. Test hooks under `/_test/`
// (grant counts, a token-endpoint delay): see below.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.NODE_MODULES || path.join(here, '..', '..', '.tools', 'node', 'node_modules');
const { default: Provider } = await import(
  pathToFileURL(path.join(modules, 'oidc-provider', 'lib', 'index.js')).href
);

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
const withEmail = process.env.OIDC_EMAIL === '1';

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'switchyard-test',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    redirect_uris: [
      'http://localhost/auth/callback',
      'http://localhost/callback',
      'http://localhost/oauth2callback',
      'http://localhost/oauth-callback',
    ],
  }],
  // Claude's and Google's scopes too: without `openid` a request is granted only scopes the
  // provider knows.
  scopes: ['openid', 'offline_access', 'profile', 'email', 'model.completion',
    'org:create_api_key', 'user:profile', 'user:inference',
    'https://www.googleapis.com/auth/cloud-platform',
    'https://www.googleapis.com/auth/userinfo.email',
    'https://www.googleapis.com/auth/userinfo.profile'],
  claims: { openid: ['sub'], email: ['email'] },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => (withEmail ? { sub, email: `${sub}@example.test` } : { sub }),
  }),
  cookies: { keys: ['switchyard-test-cookie-key'] },
});
provider.proxy = false;
// Silence the development-only warnings; errors still reach stderr.
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

// Test hooks: token grants counted per grant type and outcome (`GET /_test/grants`), and a
// delay before each token request (`POST /_test/token-delay?ms=N`) so that a refresh takes
// long enough for several gateway replicas to try it at once.
const grants = {};
const count = (ctx, outcome) => {
  const type = ctx.oidc?.params?.grant_type ?? 'unknown';
  grants[type] ??= { ok: 0, error: 0 };
  grants[type][outcome] += 1;
};
provider.on('grant.success', (ctx) => count(ctx, 'ok'));
provider.on('grant.error', (ctx) => count(ctx, 'error'));
let tokenDelayMs = 0;
const handle = provider.callback();
server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/_test/grants') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(grants));
  } else if (url.pathname === '/_test/token-delay' && req.method === 'POST') {
    tokenDelayMs = Number(url.searchParams.get('ms') ?? 0);
    res.end('ok');
  } else if (url.pathname === '/token' && req.method === 'POST' && tokenDelayMs > 0) {
    setTimeout(() => handle(req, res), tokenDelayMs);
  } else {
    handle(req, res);
  }
});
process.stdout.write(`PORT ${port}\n`);
