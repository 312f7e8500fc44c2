// Sign-in for the console deployed with the stack (R-UI): authorization code + PKCE against the registry's
// JWT issuer, discovered at <issuer>/.well-known/openid-configuration. The stack writes /console/config.json
// ({ issuer, clientId, scopes }); local mode has none, and the console keeps asking for the local token.
// Evaluating this module finishes a sign-in that comes back with ?code=, or starts one when there is no
// valid token, before app.js renders anything.
import { codeChallenge, randomVerifier } from './pkce.js';

const TOKEN_KEY = 'arca-oidc-token';
const PENDING_KEY = 'arca-oidc-pending';

async function loadConfig() {
  const res = await fetch('/console/config.json', { cache: 'no-store' }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return res.json();
}

async function discover(issuer) {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`sign-in: the issuer's discovery document answered ${res.status}`);
  return res.json();
}

/** The redirect URI registered with the issuer: the console's root. */
const redirectUri = () => `${location.origin}/`;

/** The signed-in user's ID token while it is valid; `undefined` before sign-in, after expiry, or in local mode. */
export function bearerToken() {
  const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null');
  return saved && saved.expiresAt > Date.now() ? saved.token : undefined;
}

async function startSignIn(config, meta) {
  const verifier = randomVerifier();
  const state = randomVerifier();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(' '),
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
  // The page is leaving for the issuer: app.js has nothing to render meanwhile.
  return new Promise(() => {});
}

async function finishSignIn(config, meta, params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null');
  sessionStorage.removeItem(PENDING_KEY);
  // A code that this tab did not ask for (or asked for twice) is refused: the state ties the answer to the request.
  if (!pending || params.get('state') !== pending.state) throw new Error('sign-in: the answer does not match a sign-in started here; reload to try again');
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      client_id: config.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await res.json().catch(() => ({}));
  if (!res.ok || !tokens.id_token) throw new Error(`sign-in: the token endpoint answered ${res.status} ${tokens.error ?? ''}`.trim());
  // The API's JWT authorizer checks the audience, which an ID token carries as the client id.
  const expiresAt = Date.now() + (Number(tokens.expires_in) || 3600) * 1000;
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token: tokens.id_token, expiresAt }));
  history.replaceState(null, '', `/${pending.hash ?? ''}`);
}

async function signIn() {
  const config = await loadConfig();
  if (!config) return;
  const params = new URLSearchParams(location.search);
  if (params.has('error')) throw new Error(`sign-in refused: ${params.get('error')} ${params.get('error_description') ?? ''}`.trim());
  const meta = await discover(config.issuer);
  if (params.has('code')) return finishSignIn(config, meta, params);
  if (!bearerToken()) return startSignIn(config, meta);
}

/** Why sign-in failed, for app.js to show; `undefined` when it did not. */
export const signInError = await signIn().then(
  () => undefined,
  (error) => error.message ?? String(error),
);
