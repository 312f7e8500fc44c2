/**
 * Webhook secrets at rest: sealed with KMS in AWS and with a local AES-256-GCM key in local mode. The
 * hook id is bound in (KMS encryption context / GCM additional data), so a sealed secret copied onto
 * another hook does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';

export interface SecretBox {
  seal(hookId: string, secret: string): Promise<string>;
  open(hookId: string, sealed: string): Promise<string>;
}

export function kmsSecretBox(kms: KMSClient, keyId: string): SecretBox {
  return {
    async seal(hookId, secret) {
      const out = await kms.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(secret, 'utf8'), EncryptionContext: { hookId } }),
      );
      if (!out.CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext');
      return `kms:${Buffer.from(out.CiphertextBlob).toString('base64')}`;
    },
    async open(hookId, sealed) {
      if (!sealed.startsWith('kms:')) throw new Error('hook secret was not sealed with KMS');
      const out = await kms.send(
        new DecryptCommand({ KeyId: keyId, CiphertextBlob: Buffer.from(sealed.slice(4), 'base64'), EncryptionContext: { hookId } }),
      );
      if (!out.Plaintext) throw new Error('KMS Decrypt returned no plaintext');
      return Buffer.from(out.Plaintext).toString('utf8');
    },
  };
}

export function localSecretBox(keyHex: string): SecretBox {
  if (!/^[0-9a-f]{64}$/i.test(keyHex)) throw new Error('the local hook secret key must be 64 hex characters (32 bytes)');
  const key = Buffer.from(keyHex, 'hex');
  return {
    async seal(hookId, secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(hookId));
      const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return `aes:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    async open(hookId, sealed) {
      if (!sealed.startsWith('aes:')) throw new Error('hook secret was not sealed with the local key');
      const raw = Buffer.from(sealed.slice(4), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(hookId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}
