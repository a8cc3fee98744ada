// Verify an Authcore access token the way a relying app (Privy) does: jose + the JWKS URL.
// Usage: node verify-passkey-token.mjs <token> <jwks-url> <issuer> <audience>
// Prints the verified claims as JSON; exits 1 with the jose error code otherwise.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [token, jwksUrl, issuer, audience] = process.argv.slice(2);
try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ["RS256"],
  });
  console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (error) {
  console.error(error.code || error.name);
  process.exit(1);
}
