/**
 * The configuration and clients of everything hooks and events touch, read once at module load. Kept apart
 * from functions/shared/env.ts because the stream consumer and the delivery worker get only these
 * variables (least privilege), not the API's tables and bucket.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { ENV } from '../../contract/env.ts';
import { DEFAULT_RETRY, retryDelays, type RetryPolicy } from '../../contract/retry.ts';
import type { UrlPolicy } from '../events/ssrf.ts';
import { kmsSecretBox, localSecretBox, type SecretBox } from './secrets.ts';
import { dynamoClients } from '../adapters/dynamoBase.ts';
import { HookStore } from './store.ts';
import { optional, required, type EnvSource } from '../shared/vars.ts';

export interface HooksEnv {
  tables: { hooks: string; deliveries: string };
  dynamoEndpoint?: string;
  policy: UrlPolicy;
  retry: RetryPolicy;
  /** KMS key id (AWS) or local AES key (local mode); one of them is needed to seal or open a secret. */
  keyId?: string;
  localKey?: string;
}

export function loadHooksEnv(src: EnvSource = process.env): HooksEnv {
  const base = optional(src, ENV.hookRetryBaseSeconds);
  const retry = { ...DEFAULT_RETRY, ...(base === undefined ? {} : { baseSeconds: Number(base) }) };
  try {
    retryDelays(retry);
  } catch (error) {
    throw new Error(`environment variable ${ENV.hookRetryBaseSeconds} is not usable ("${base}"): ${(error as Error).message}`, { cause: error });
  }
  const insecure = optional(src, ENV.hooksAllowInsecure);
  if (insecure !== undefined && insecure !== 'true' && insecure !== 'false') {
    throw new Error(`environment variable ${ENV.hooksAllowInsecure} must be true or false, got "${insecure}"`);
  }
  return {
    tables: { hooks: required(ENV.hooksTable, src), deliveries: required(ENV.deliveriesTable, src) },
    dynamoEndpoint: optional(src, ENV.dynamoEndpoint),
    policy: { allowInsecure: insecure === 'true' },
    retry,
    keyId: optional(src, ENV.hookKeyId),
    localKey: optional(src, ENV.hookSecretKey),
  };
}

export const hooksEnv = loadHooksEnv();

export const hookStore = new HookStore(dynamoClients(hooksEnv.dynamoEndpoint).doc, hooksEnv.tables);

let box: SecretBox | undefined;

/** The secret box; only the functions that seal or open secrets have a key, and they fail here without one. */
export function secretBox(): SecretBox {
  if (box) return box;
  if (hooksEnv.keyId) box = kmsSecretBox(new KMSClient({}), hooksEnv.keyId);
  else if (hooksEnv.localKey) box = localSecretBox(hooksEnv.localKey);
  else throw new Error(`environment variable ${ENV.hookKeyId} (or ${ENV.hookSecretKey} in local mode) is required to seal webhook secrets`);
  return box;
}
