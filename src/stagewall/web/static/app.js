// stagewall web UI: progressive enhancement only. Every page works without this file
// (with a one-time code); with it, a passkey can answer a step-up instead.
"use strict";
(function () {
  // A form is sent once: a second click while the first is on its way would burn a
  // second one-time code or file a duplicate request.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "yes") { event.preventDefault(); return; }
    form.dataset.sent = "yes";
    window.setTimeout(function () { form.dataset.sent = ""; }, 5000);
  });

  function csrf() {
    var meta = document.querySelector("meta[name='stagewall-csrf']");
    return meta ? meta.getAttribute("content") : "";
  }

  function b64urlToBuffer(text) {
    var pad = "=".repeat((4 - (text.length % 4)) % 4);
    var bin = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function bufferToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) { throw new Error(data.detail || ("HTTP " + res.status)); }
        return data;
      });
    });
  }

  function say(el, text) {
    if (el) { el.textContent = text; }
  }

  // Step-up with a passkey: ask the server for a challenge bound to this session, let
  // the authenticator sign it (user verification required), and send the answer with
  // the form in its hidden "webauthn" field instead of a one-time code.
  function assert() {
    return post("/api/v1/mfa/webauthn/assertion/options").then(function (o) {
      var publicKey = {
        challenge: b64urlToBuffer(o.challenge),
        rpId: o.rpId,
        timeout: o.timeout,
        userVerification: o.userVerification || "required",
        allowCredentials: (o.allowCredentials || []).map(function (c) {
          return { type: c.type, id: b64urlToBuffer(c.id), transports: c.transports };
        })
      };
      return navigator.credentials.get({ publicKey: publicKey });
    }).then(function (cred) {
      var r = cred.response;
      return {
        id: cred.id,
        rawId: bufferToB64url(cred.rawId),
        type: cred.type,
        clientExtensionResults: cred.getClientExtensionResults(),
        authenticatorAttachment: cred.authenticatorAttachment || undefined,
        response: {
          clientDataJSON: bufferToB64url(r.clientDataJSON),
          authenticatorData: bufferToB64url(r.authenticatorData),
          signature: bufferToB64url(r.signature),
          userHandle: r.userHandle ? bufferToB64url(r.userHandle) : undefined
        }
      };
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-passkey]");
    if (!button) { return; }
    event.preventDefault();
    var form = button.form;
    var status = form.querySelector(".passkey-status");
    if (!window.PublicKeyCredential) { say(status, "This browser has no passkey support; use a one-time code."); return; }
    say(status, "Waiting for your passkey…");
    assert().then(function (answer) {
      form.querySelector("input[name='webauthn']").value = JSON.stringify(answer);
      var otp = form.querySelector("input[name='otp']");
      if (otp) { otp.required = false; otp.value = ""; }
      var decision = form.querySelector("input[name='decision-by-passkey']");
      if (decision) { decision.name = "decision"; decision.value = button.value; }
      say(status, "Passkey accepted; sending…");
      form.submit();
    }).catch(function (err) { say(status, "Passkey step-up failed: " + err.message); });
  });

  // Registering a passkey for yourself (the page asks for a current factor first).
  var reg = document.getElementById("passkey-register");
  if (reg) {
    reg.hidden = false;
    reg.addEventListener("submit", function (event) {
      event.preventDefault();
      reg.dataset.sent = "";
      var status = reg.querySelector(".passkey-status");
      var otp = reg.querySelector("input[name='otp']").value.trim();
      var name = reg.querySelector("input[name='name']").value.trim() || "passkey";
      if (!window.PublicKeyCredential) { say(status, "This browser has no passkey support."); return; }
      say(status, "Waiting for your authenticator…");
      // A factor you already have, sent with the request (an open step-up window is not
      // enough to add one): the code typed, else one of your passkeys, else none yet.
      var factor = otp ? Promise.resolve({ otp: otp })
        : reg.dataset.passkeys ? assert().then(function (a) { return { webauthn: a }; })
        : Promise.resolve({});
      factor.then(function (body) {
        return post("/api/v1/mfa/webauthn/registration/options", body);
      }).then(function (o) {
        var publicKey = {
          challenge: b64urlToBuffer(o.challenge),
          rp: o.rp,
          user: { id: b64urlToBuffer(o.user.id), name: o.user.name, displayName: o.user.displayName },
          pubKeyCredParams: o.pubKeyCredParams,
          timeout: o.timeout,
          attestation: o.attestation,
          authenticatorSelection: o.authenticatorSelection,
          excludeCredentials: (o.excludeCredentials || []).map(function (c) {
            return { type: c.type, id: b64urlToBuffer(c.id), transports: c.transports };
          })
        };
        return navigator.credentials.create({ publicKey: publicKey });
      }).then(function (cred) {
        var r = cred.response;
        var credential = {
          id: cred.id,
          rawId: bufferToB64url(cred.rawId),
          type: cred.type,
          clientExtensionResults: cred.getClientExtensionResults(),
          authenticatorAttachment: cred.authenticatorAttachment || undefined,
          response: {
            clientDataJSON: bufferToB64url(r.clientDataJSON),
            attestationObject: bufferToB64url(r.attestationObject),
            transports: r.getTransports ? r.getTransports() : []
          }
        };
        return post("/api/v1/mfa/webauthn/registration", { credential: credential, name: name });
      }).then(function (got) {
        say(status, "Passkey \u201c" + got.name + "\u201d registered.");
        reg.reset();
      }).catch(function (err) { say(status, "Registration failed: " + err.message); });
    });
  }
})();
