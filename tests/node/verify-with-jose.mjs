// A Privy-style verifier: jose's createRemoteJWKSet + jwtVerify against Authcore's JWKS URL.
//
// Usage: node verify-with-jose.mjs JWKS_URL ISSUER AUDIENCE [COOLDOWN_MS]
// Reads one JSON command per stdin line and answers one JSON line on stdout:
//   {"op": "verify", "token": "..."} -> {"ok": true, "kid", "sub"} | {"ok": false, "code", "error"}
//   {"op": "reload"}                 -> {"ok": true, "keys": <kids now cached>}
// The JWKS is cached by jose as it would be in production; COOLDOWN_MS (default jose's 30 s)
// is how long jose waits before refetching on an unknown kid.
import { createInterface } from "node:readline";
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, audience, cooldown] = process.argv.slice(2);
const options = { cacheMaxAge: 10 * 60 * 1000 };
if (cooldown !== undefined) options.cooldownDuration = Number(cooldown);
const JWKS = createRemoteJWKSet(new URL(jwksUrl), options);

const lines = createInterface({ input: process.stdin, terminal: false });
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  let answer;
  try {
    if (command.op === "reload") {
      await JWKS.reload();
      answer = { ok: true, keys: (JWKS.jwks()?.keys ?? []).map((key) => key.kid) };
    } else {
      const { payload, protectedHeader } = await jwtVerify(command.token, JWKS, {
        issuer,
        audience,
        algorithms: ["RS256"],
      });
      answer = { ok: true, kid: protectedHeader.kid, sub: payload.sub };
    }
  } catch (error) {
    answer = { ok: false, code: error.code ?? "ERROR", error: String(error.message) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
