// A real OpenID provider for the browser-session tests (node oidc-provider 9).
//
// Configured through the environment by tests/sessions_app/oidc_peer.py:
//   OIDC_CLIENTS   JSON list of {client_id, client_secret, redirect_uris, post_logout_redirect_uris}
//   OIDC_ACCOUNTS  JSON object {accountId: {claims...}} returned by findAccount
//   OIDC_JWKS      JSON {keys: [private JWK...]} the provider signs with (tests keep the keys
//                  to forge tokens with the right signature but wrong claims)
//   OIDC_PORT      port to bind on 127.0.0.1 (0 = any free port)
//   OIDC_ACCESS_TOKEN_TTL  seconds an access token lives (ttl.AccessToken; default 3600)
//   OIDC_TOKEN_RESPONSE    JSON object merged into every token endpoint response, through
//                          oidc-provider's own post-middleware (e.g. a `token_type` other than
//                          Bearer; default none)
// On start it prints one JSON line {"issuer": "..."} on stdout; SIGTERM stops it.
import http from 'node:http';

import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const jwks = JSON.parse(process.env.OIDC_JWKS || '{"keys": []}');
const port = Number(process.env.OIDC_PORT || 0);
const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);
const tokenResponse = JSON.parse(process.env.OIDC_TOKEN_RESPONSE || '{}');

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...client,
    })),
    jwks,
    cookies: { keys: ['authcore-test-cookie-key-not-secret'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    ttl: { AccessToken: accessTokenTtl },
    async findAccount(ctx, sub) {
      const claims = accounts[sub];
      if (!claims) return undefined;
      return { accountId: sub, async claims() { return { sub, ...claims }; } };
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body) {
      Object.assign(ctx.body, tokenResponse);
    }
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
