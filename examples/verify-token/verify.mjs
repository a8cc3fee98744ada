// Verify an Authcore access token with jose against the JWKS URL, as Privy or your API would.
//
//   npm install                      # in this folder (jose)
//   AUTHCORE_URL=http://localhost:8000 AUTHCORE_AUDIENCE=authcore-dev node verify.mjs "$TOKEN"
//
// Prints the verified claims as JSON and exits 0, or prints the jose error code and exits 1.
// Signatures, iss, aud and exp are checked here, offline after the first JWKS fetch (jose caches
// the key set and refetches on an unknown kid, so key rotation needs nothing from you). A revoked
// token still verifies here: ask Authcore (POST /api/tokens/introspect or GET /api/me) when
// revocation must be seen at once.
import { createRemoteJWKSet, jwtVerify } from "jose";

const base = (process.env.AUTHCORE_URL ?? "http://localhost:8000").replace(/\/$/, "");
const audience = process.env.AUTHCORE_AUDIENCE ?? "authcore-dev"; // Authcore's APP_ID
const token = process.argv[2];
if (!token) {
  console.error("usage: node verify.mjs <access token>");
  process.exit(2);
}

// The discovery document names the issuer and the JWKS URL.
const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));

try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: discovery.issuer,
    audience,
    algorithms: ["RS256"], // pinned: the token's header never chooses (RFC 8725 §3.1)
  });
  console.log(JSON.stringify({ valid: true, kid: protectedHeader.kid, claims: payload }));
} catch (error) {
  console.log(JSON.stringify({ valid: false, code: error.code ?? "ERROR", error: error.message }));
  process.exit(1);
}
