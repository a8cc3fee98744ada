// A relying app that caches the JWKS (jose's createRemoteJWKSet, as Privy-style consumers do):
// one process, one remote key set for its whole life, refetched only for an unknown kid (at
// most once per cooldown) or when the cache is older than its max age.
// Usage: node jwks-caching-consumer.mjs <jwks-url> <issuer> <audience> <cooldown-ms> <max-age-ms>
// Reads one token per line on stdin; writes one JSON line per token:
//   {"ok": true, "kid": "..."} or {"ok": false, "kid": "...", "code": "ERR_..."}
import { createInterface } from "node:readline";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

const [jwksUrl, issuer, audience, cooldown, maxAge] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl), {
  cooldownDuration: Number(cooldown),
  cacheMaxAge: Number(maxAge),
});

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const token = line.trim();
  if (!token) continue;
  let kid = null;
  try {
    kid = decodeProtectedHeader(token).kid ?? null;
    await jwtVerify(token, jwks, { issuer, audience, algorithms: ["RS256"] });
    console.log(JSON.stringify({ ok: true, kid }));
  } catch (error) {
    console.log(
      JSON.stringify({ ok: false, kid, code: error.code || error.name, message: String(error.message), cause: String(error.cause ?? "") }),
    );
  }
}
