// Authcore passkey API from a browser: two calls per ceremony, JSON in and out.
// Uses the WebAuthn Level 3 JSON helpers (Chromium, Firefox, Safari 18+); Authcore's demo page
// (passkeys/static/passkeys/demo.js) shows a fallback for older browsers.
"use strict";

async function post(path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  const data = await response.json();
  // Every error is {"detail", "code"}: program against the code, show the detail.
  if (!response.ok) throw new Error(`${data.code}: ${data.detail}`);
  return data;
}

async function register(username) {
  const options = await post("/api/auth/passkey/register/options", { username });
  const credential = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
  });
  return post("/api/auth/passkey/register/verify", credential.toJSON());
}

async function signIn() {
  const options = await post("/api/auth/passkey/login/options", {}); // no username: discoverable
  const assertion = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
  });
  return post("/api/auth/passkey/login/verify", assertion.toJSON());
}

async function showMe(accessToken) {
  const response = await fetch("/api/me", { headers: { Authorization: `Bearer ${accessToken}` } });
  document.getElementById("me").textContent = JSON.stringify(await response.json(), null, 2);
}

function run(action) {
  const status = document.getElementById("status");
  return async () => {
    status.textContent = "Working…";
    try {
      const { access_token, user } = await action();
      status.textContent = `Signed in as ${user.username}`;
      await showMe(access_token);
    } catch (error) {
      // NotAllowedError: the person cancelled or timed out; API errors carry their code.
      status.textContent = `Failed: ${error.message}`;
    }
  };
}

document.getElementById("register").addEventListener(
  "click",
  run(() => register(document.getElementById("username").value)),
);
document.getElementById("signin").addEventListener("click", run(signIn));
