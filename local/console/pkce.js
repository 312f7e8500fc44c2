// PKCE (RFC 7636) for the console's sign-in: a random code verifier and its S256 challenge,
// code_challenge = base64url(sha256(code_verifier)). Plain Web Crypto, so the browser and Node run the same code.

/** base64url without padding (RFC 4648 §5), as PKCE and OAuth state use it. */
export function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 32 random bytes → 43 characters of the unreserved set: the verifier length RFC 7636 recommends. */
export function randomVerifier() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function codeChallenge(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
