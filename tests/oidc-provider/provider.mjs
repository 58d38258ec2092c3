// A real OpenID provider (the certified `oidc-provider` package) for the sign-on
// integration tests. It listens on a free loopback port and prints
// `listening http://127.0.0.1:PORT` on its first line of output.
//
// Environment:
//   RP_BASE   the relying party's public URL (default http://localhost:8080): the redirect
//             URI is RP_BASE/sign-in/sso/callback, the post-logout URI RP_BASE/sign-in.
//
// Clients:
//   icts-review        the product (secret: icts-review-fixture-secret)
//   icts-review-brief  the same, whose ID tokens live 30 seconds
//   other-client       another relying party (secret: other-client-fixture-secret),
//                      redirecting to http://127.0.0.1:9/other/callback
//
// Signing in: GET /interaction/UID shows a form; POST /interaction/UID/login with
// `sub`, `email`, `email_verified` (true/false), `acr` and `amr` (comma-separated)
// finishes the login and grants the requested scopes at once (no consent page).
//
// The process ends when its standard input closes (the test process that started it ended).
//
// POST /test/rotate-keys replaces the signing key (a new `kid`); the provider keeps its
// issuer and port, and starts from an empty store.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const rpBase = (process.env.RP_BASE || 'http://localhost:8080').replace(/\/$/, '');
const acrValues = [
  'http://idmanagement.gov/ns/assurance/aal/1',
  'http://idmanagement.gov/ns/assurance/aal/2',
  'http://idmanagement.gov/ns/assurance/aal/3',
];

// Identities signed in so far, by subject.
const accounts = new Map();

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

function makeProvider(issuer) {
  const client = (id, secret, redirect, extra = {}) => ({
    client_id: id,
    client_secret: secret,
    redirect_uris: [redirect],
    post_logout_redirect_uris: [`${rpBase}/sign-in`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...extra,
  });
  const provider = new Provider(issuer, {
    clients: [
      client('icts-review', 'icts-review-fixture-secret', `${rpBase}/sign-in/sso/callback`),
      client('icts-review-brief', 'icts-review-fixture-secret', `${rpBase}/sign-in/sso/callback`),
      client('other-client', 'other-client-fixture-secret', 'http://127.0.0.1:9/other/callback'),
    ],
    jwks: { keys: [newKey()] },
    acrValues,
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    ttl: {
      IdToken: (ctx, token, c) => (c.clientId === 'icts-review-brief' ? 30 : 3600),
      AccessToken: 600,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['icts-review-fixture-cookie-key'] },
    async findAccount(ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: account.email, email_verified: account.email_verified, name: account.name };
        },
      };
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

let provider;
let handler;

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://fixture');
    const login = url.pathname.match(/^\/interaction\/([^/]+)\/login$/);
    const page = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (req.method === 'POST' && url.pathname === '/test/rotate-keys') {
      provider = makeProvider(provider.issuer);
      handler = provider.callback();
      res.writeHead(204).end();
    } else if (req.method === 'GET' && page) {
      const details = await provider.interactionDetails(req, res);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Fixture provider</title><h1>Sign in to the fixture provider</h1>
<p>Prompt: ${escape(details.prompt.name)}; client: ${escape(details.params.client_id)}</p>
<form method="post" action="/interaction/${escape(details.uid)}/login">
<label>Subject <input name="sub"></label> <label>E-mail <input name="email"></label>
<label>Verified <input name="email_verified" value="true"></label>
<label>acr <input name="acr" value="${escape(acrValues[1])}"></label>
<label>amr <input name="amr" value="pwd,otp,mfa"></label>
<button>Sign in</button></form>`);
    } else if (req.method === 'POST' && login) {
      const details = await provider.interactionDetails(req, res);
      const form = await readForm(req);
      const sub = form.get('sub') || '';
      if (!sub) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('sub is required');
        return;
      }
      accounts.set(sub, {
        email: form.get('email') || undefined,
        email_verified: form.get('email_verified') !== 'false',
        name: form.get('name') || sub,
      });
      const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      const amr = (form.get('amr') || '').split(',').map((s) => s.trim()).filter(Boolean);
      const acr = form.get('acr') || undefined;
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: sub, amr: amr.length ? amr : undefined, acr }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
    } else {
      handler(req, res);
    }
  } catch (err) {
    console.error(err);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err));
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = makeProvider(issuer);
  handler = provider.callback();
  console.log(`listening ${issuer}`);
});

// The tests hold this process's standard input open; it ends when they exit.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
