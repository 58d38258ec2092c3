// The browser's side of security keys and passkeys (WebAuthn). A form marked
// data-webauthn="create" (register a key) or "get" (answer with a key) carries the
// server's options in the JSON element named by data-options. On submit, the authenticator
// is asked; its answer goes into the form's "credential" field as JSON, and the form is
// sent. Without scripts, or without WebAuthn in the browser, the form says so.
(function () {
  'use strict';

  function toBuffer(text) {
    var s = text.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBuffer(c.id) }); });
  }

  function creation(options) {
    var p = Object.assign({}, options.publicKey);
    p.challenge = toBuffer(p.challenge);
    p.user = Object.assign({}, p.user, { id: toBuffer(p.user.id) });
    p.excludeCredentials = withIds(p.excludeCredentials);
    return { publicKey: p };
  }

  function request(options) {
    var p = Object.assign({}, options.publicKey);
    p.challenge = toBuffer(p.challenge);
    p.allowCredentials = withIds(p.allowCredentials);
    return { publicKey: p };
  }

  function registered(c) {
    return {
      id: c.id,
      rawId: toText(c.rawId),
      type: c.type,
      response: {
        attestationObject: toText(c.response.attestationObject),
        clientDataJSON: toText(c.response.clientDataJSON),
        transports: c.response.getTransports ? c.response.getTransports() : []
      },
      extensions: c.getClientExtensionResults()
    };
  }

  function asserted(c) {
    return {
      id: c.id,
      rawId: toText(c.rawId),
      type: c.type,
      response: {
        authenticatorData: toText(c.response.authenticatorData),
        clientDataJSON: toText(c.response.clientDataJSON),
        signature: toText(c.response.signature),
        userHandle: c.response.userHandle ? toText(c.response.userHandle) : null
      },
      extensions: c.getClientExtensionResults()
    };
  }

  document.querySelectorAll('form[data-webauthn]').forEach(function (form) {
    var kind = form.getAttribute('data-webauthn');
    var source = document.getElementById(form.getAttribute('data-options'));
    var status = form.querySelector('[data-webauthn-status]');
    var button = form.querySelector('button[type=submit]');
    function say(text) {
      if (status) {
        status.textContent = text;
        status.hidden = !text;
      }
    }
    if (!window.PublicKeyCredential || !navigator.credentials || !source) {
      say('This browser cannot use security keys or passkeys here.');
      if (button) button.disabled = true;
      return;
    }
    if (button) button.disabled = false;
    var options = JSON.parse(source.textContent);
    form.addEventListener('submit', function (event) {
      if (form.elements.credential.value) return;
      event.preventDefault();
      say('Follow your browser: touch your key, or confirm with your device.');
      var asked = kind === 'create'
        ? navigator.credentials.create(creation(options))
        : navigator.credentials.get(request(options));
      asked.then(function (credential) {
        form.elements.credential.value = JSON.stringify(kind === 'create' ? registered(credential) : asserted(credential));
        form.submit();
      }).catch(function (e) {
        say('The key did not answer (' + (e && e.name ? e.name : 'error') + '). Try again, or use another way.');
      });
    });
  });
})();
