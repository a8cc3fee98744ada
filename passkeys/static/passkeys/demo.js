// Authcore demo page: passkey sign-up / sign-in, passkey management, email code fallback.
// Plain browser JavaScript, no build step, no third-party code.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, claims: null, user: null };

  // Every code the API can answer with, in words a person understands.
  const MESSAGES = {
    challenge_invalid: "This sign-in attempt expired or was already used. Please try again.",
    origin_mismatch: "This passkey was used from a website address this service does not accept.",
    rp_id_mismatch: "This passkey belongs to a different website.",
    signature_invalid: "Your device's signature could not be verified. Please try again.",
    sign_count_regressed:
      "This passkey looks like it may have been copied to another device. It has been flagged; use another passkey or your email.",
    credential_unknown: "This passkey is not registered here (it may have been removed). Register again or use email.",
    user_verification_required: "Your device must verify it's you (PIN, fingerprint or face). Please try again.",
    credential_exists: "This device already holds a passkey for your account.",
    username_taken: "That username is taken. If it's yours, sign in first, then add a passkey.",
    last_sign_in_method:
      "You can't remove your last passkey without a verified email address — you would be locked out.",
    not_found: "That passkey no longer exists.",
    invalid_request: "Some input is not valid",
    malformed_json: "The request could not be read.",
    not_authenticated: "Please sign in first.",
    invalid_token: "Your sign-in has expired. Please sign in again.",
    authentication_failed: "Please sign in again.",
    permission_denied: "You are not allowed to do that.",
    rate_limited: "Too many attempts. Please wait a little and try again.",
    code_invalid: "That code or link is not right. Check the latest email and try again (after 5 wrong codes, send a new code).",
    code_expired: "That code or link has expired. Send a new code.",
    code_used: "That code or link was already used. Send a new code.",
    code_voided: "That code can no longer be used (too many tries, or a newer one was sent). Send a new code.",
    service_unavailable: "The service is temporarily unavailable. Please try again shortly.",
  };

  class ApiError extends Error {
    constructor(status, body) {
      super(body.detail || `HTTP ${status}`);
      this.status = status;
      this.code = body.code || "error";
      this.detail = body.detail || "";
    }
  }

  function say(text, kind = "info") {
    const box = $("message");
    box.textContent = text;
    box.className = `message ${kind}`;
    box.hidden = !text;
  }

  function explain(error) {
    if (error instanceof ApiError) {
      const words = MESSAGES[error.code];
      if (error.code === "invalid_request") return `${words}: ${error.detail}`;
      if (error.status === 429) return MESSAGES.rate_limited;
      return words || error.detail || `Something went wrong (${error.code}).`;
    }
    // WebAuthn errors from the browser (DOMException names).
    switch (error && error.name) {
      case "NotAllowedError":
        return "The passkey request was cancelled or timed out.";
      case "InvalidStateError":
        return "This device already holds a passkey for your account.";
      case "SecurityError":
        return "Passkeys are not allowed on this address (the site's RP ID does not match).";
      case "NotSupportedError":
        return "This device does not support the kind of passkey requested.";
      default:
        return (error && error.message) || "Something went wrong.";
    }
  }

  async function api(path, { method = "POST", body, auth = false } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.status === 204) return null;
    let data = {};
    try {
      data = await response.json();
    } catch (_) {
      data = { detail: `HTTP ${response.status}`, code: "error" };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // --- base64url and WebAuthn JSON (for browsers without the L3 JSON helpers) ---------------

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    for (const byte of bytes) raw += String.fromCharCode(byte);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: toBytes(json.challenge),
      user: { ...json.user, id: toBytes(json.user.id) },
      excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
    };
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: toBytes(json.challenge),
      allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
    };
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return json;
  }

  // --- signed-in state ------------------------------------------------------------------------

  function decodeClaims(token) {
    const payload = token.split(".")[1];
    return JSON.parse(new TextDecoder().decode(toBytes(payload)));
  }

  function signIn(answer, how) {
    state.token = answer.access_token;
    state.user = answer.user;
    state.claims = decodeClaims(answer.access_token);
    $("signed-in-username").textContent = answer.user.username;
    const expires = new Date(state.claims.exp * 1000).toLocaleTimeString();
    $("signed-in-detail").textContent =
      `${how} · ${answer.user.email || "no email"} · token valid until ${expires}`;
    $("claims").textContent = JSON.stringify(state.claims, null, 2);
    $("raw-token").textContent = answer.access_token;
    $("signed-out").hidden = true;
    $("signed-in").hidden = false;
    return loadPasskeys();
  }

  function signOut() {
    if (state.token) {
      // Best effort: the token dies server-side too (RFC 7009 revocation by its bearer).
      api("/api/tokens/revoke", { body: { token: state.token }, auth: true }).catch(() => {});
    }
    state.token = state.user = state.claims = null;
    $("signed-in").hidden = true;
    $("signed-out").hidden = false;
    $("passkey-list").replaceChildren();
    $("register-form").reset();
    $("email-form").reset();
    $("code-row").hidden = true;
    say("You are signed out.", "info");
  }

  function formatDate(value) {
    return value ? new Date(value).toLocaleString() : "never";
  }

  async function loadPasskeys() {
    const passkeys = await api("/api/passkeys", { method: "GET", auth: true });
    const list = $("passkey-list");
    list.replaceChildren(...passkeys.map(renderPasskey));
    $("no-passkeys").hidden = passkeys.length > 0;
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  function renderPasskey(passkey) {
    const used = passkey.credential_id === (state.claims && state.claims.credentialID);
    const name = element("span", { class: "passkey-name", text: passkey.name });
    const badges = element("span", { class: "badges" });
    if (used) badges.append(element("span", { class: "badge current", text: "used for this sign-in" }));
    if (passkey.device_type === "multi_device") {
      badges.append(element("span", { class: "badge", text: passkey.backed_up ? "synced" : "syncable" }));
    } else {
      badges.append(element("span", { class: "badge", text: "this device only" }));
    }
    if (passkey.flagged) badges.append(element("span", { class: "badge danger", text: "possibly cloned" }));
    const meta = element("div", {
      class: "hint",
      text: `Created ${formatDate(passkey.created_at)} · last used ${formatDate(passkey.last_used_at)}`,
    });
    const rename = element("button", { type: "button", class: "rename-button small", text: "Rename" });
    const remove = element("button", { type: "button", class: "remove-button small danger", text: "Remove" });
    const row = element(
      "li",
      { class: "passkey-row", "data-id": passkey.id },
      element("div", { class: "passkey-main" }, element("div", {}, name, badges), meta),
      element("div", { class: "actions" }, rename, remove),
    );
    rename.addEventListener("click", () => startRename(row, passkey));
    remove.addEventListener("click", () => confirmRemove(remove, passkey));
    return row;
  }

  function startRename(row, passkey) {
    const input = element("input", { class: "rename-input", maxlength: "100", "aria-label": "New name" });
    input.value = passkey.name;
    const save = element("button", { type: "submit", class: "save-button small primary", text: "Save" });
    const cancel = element("button", { type: "button", class: "small", text: "Cancel" });
    const form = element("form", { class: "rename-form" }, input, save, cancel);
    row.querySelector(".passkey-main").replaceWith(form);
    row.querySelector(".actions").hidden = true;
    input.focus();
    cancel.addEventListener("click", () => loadPasskeys());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(async () => {
        await api(`/api/passkeys/${passkey.id}`, { method: "PATCH", body: { name: input.value }, auth: true });
        await loadPasskeys();
        say(`Renamed to “${input.value.trim()}”.`, "success");
      });
    });
  }

  function confirmRemove(button, passkey) {
    if (button.dataset.armed !== "yes") {
      button.dataset.armed = "yes";
      button.textContent = "Confirm removal";
      return;
    }
    run(async () => {
      await api(`/api/passkeys/${passkey.id}`, { method: "DELETE", auth: true });
      await loadPasskeys();
      say(`Removed “${passkey.name}”.`, "success");
    }, () => loadPasskeys());
  }

  // --- actions ----------------------------------------------------------------------------------

  let busy = false;
  async function run(action, onError) {
    if (busy) return;
    busy = true;
    document.body.classList.add("busy");
    try {
      await action();
    } catch (error) {
      say(explain(error), "error");
      if (onError) await onError().catch(() => {});
    } finally {
      busy = false;
      document.body.classList.remove("busy");
    }
  }

  async function registerPasskey({ signedIn }) {
    const body = signedIn
      ? {}
      : { username: $("username").value.trim(), display_name: $("display-name").value.trim() };
    if (!signedIn && !body.username) {
      say("Choose a username first.", "error");
      $("username").focus();
      return;
    }
    say("Follow your device's prompt to create the passkey…", "info");
    const options = await api("/api/auth/passkey/register/options", { body, auth: signedIn });
    const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    const answer = await api("/api/auth/passkey/register/verify", {
      body: credentialJSON(credential),
      auth: signedIn,
    });
    if (signedIn) {
      await loadPasskeys();
      say(`Added “${answer.credential.name}”.`, "success");
    } else {
      await signIn(answer, "Registered a passkey");
      say(`Welcome, ${answer.user.username}! Your passkey is saved.`, "success");
    }
  }

  async function signInWithPasskey() {
    say("Choose a passkey on your device…", "info");
    const options = await api("/api/auth/passkey/login/options", { body: {} });
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    const answer = await api("/api/auth/passkey/login/verify", { body: credentialJSON(credential) });
    await signIn(answer, "Signed in with a passkey");
    say(`Signed in as ${answer.user.username}.`, "success");
  }

  async function sendCode() {
    const email = $("email").value.trim();
    if (!email) {
      say("Enter your email address first.", "error");
      return;
    }
    const answer = await api("/api/auth/email/start", { body: { email } });
    $("code-row").hidden = false;
    $("code").focus();
    say(`${answer.detail} Check ${email}.`, "success");
  }

  async function verifyCode() {
    const answer = await api("/api/auth/email/verify", {
      body: { email: $("email").value.trim(), code: $("code").value.trim() },
    });
    $("code").value = "";
    await signIn(answer, "Signed in with an email code");
    say(`Signed in as ${answer.user.username}.`, "success");
  }

  async function verifyLink(token) {
    // Drop the single-use token from the address bar and history before using it.
    history.replaceState(null, "", window.location.pathname);
    const answer = await api("/api/auth/email/verify", { body: { link_token: token } });
    await signIn(answer, "Signed in with an email link");
    say(`Signed in as ${answer.user.username}.`, "success");
  }

  function start() {
    const webauthn = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
    if (!webauthn) {
      $("no-webauthn").hidden = false;
      $("passkey-forms").hidden = true;
    }
    $("register-form").addEventListener("submit", (event) => {
      event.preventDefault();
      run(() => registerPasskey({ signedIn: false }));
    });
    $("signin-button").addEventListener("click", () => run(signInWithPasskey));
    $("add-passkey-button").addEventListener("click", () => run(() => registerPasskey({ signedIn: true })));
    $("signout-button").addEventListener("click", signOut);
    $("email-form").addEventListener("submit", (event) => {
      event.preventDefault();
      run(sendCode);
    });
    $("verify-code-button").addEventListener("click", () => run(verifyCode));
    $("code").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        run(verifyCode);
      }
    });
    const token = new URLSearchParams(window.location.search).get("token");
    if (token) run(() => verifyLink(token));
    document.body.dataset.ready = "yes";
  }

  start();
})();
