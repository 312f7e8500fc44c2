/**
 * The webhook signature (R-EVENT): `arca-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
 * The service signs with it and the SDK's `verifyWebhook` checks with it, so the format lives in one place.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'arca-signature';

export const signatureHex = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

export const signatureHeaderValue = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${signatureHex(secret, timestamp, body)}`;
