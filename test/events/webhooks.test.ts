import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { verifyWebhook } from '../../client/webhooks.ts';
import { signatureHeaderValue } from '../../contract/webhooks.ts';

const secret = 'whsec_test_secret_0123456789';
const body = JSON.stringify({ id: 'x', 'detail-type': 'Alias Updated' });
const now = new Date('2026-11-22T10:00:00Z');
const t = Math.floor(now.getTime() / 1000);

describe('webhook signatures', () => {
  it('signs t + "." + body with HMAC-SHA256, as the spec writes it', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signatureHeaderValue(secret, t, body)).toBe(`t=${t},v1=${expected}`);
  });

  it.each([
    ['a plain header record', { 'arca-signature': signatureHeaderValue(secret, t, body) }],
    ['any header case', { 'Arca-Signature': signatureHeaderValue(secret, t, body) }],
    ['a Headers object', new Headers({ 'arca-signature': signatureHeaderValue(secret, t, body) })],
    ['a rotated secret among several v1', { 'arca-signature': `t=${t},v1=${'0'.repeat(64)},v1=${signatureHeaderValue(secret, t, body).split('v1=')[1]}` }],
  ])('verifies %s', (_name, headers) => {
    expect(verifyWebhook(secret, headers, body, 300, now)).toBe(true);
    expect(verifyWebhook(secret, headers, Buffer.from(body), 300, now)).toBe(true);
  });

  it.each([
    ['no header', {}],
    ['another secret', { 'arca-signature': signatureHeaderValue('another-secret-0123456', t, body) }],
    ['a changed body', { 'arca-signature': signatureHeaderValue(secret, t, `${body} `) }],
    ['a stale timestamp', { 'arca-signature': signatureHeaderValue(secret, t - 301, body) }],
    ['a future timestamp', { 'arca-signature': signatureHeaderValue(secret, t + 301, body) }],
    ['a timestamp swapped after signing', { 'arca-signature': signatureHeaderValue(secret, t - 10, body).replace(`t=${t - 10}`, `t=${t}`) }],
    ['garbage', { 'arca-signature': 't=abc,v1=xyz' }],
    ['a v0 scheme only', { 'arca-signature': `t=${t},v0=${'a'.repeat(64)}` }],
  ])('rejects %s', (_name, headers) => {
    expect(verifyWebhook(secret, headers, body, 300, now)).toBe(false);
  });
});
