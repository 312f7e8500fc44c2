/**
 * `Idempotency-Key` on version creation: Powertools idempotency over the idempotency table, keyed by asset,
 * principal and key, for 24 h. A replay returns the stored response; the same key with a different body
 * is refused (409 AlreadyExists), as is a replay while the first request is still running.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { IdempotencyAlreadyInProgressError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { ENV } from '../../contract/env.ts';
import { required } from '../shared/vars.ts';
import { ArcaError } from '../shared/errors.ts';
import { dynamoClient } from './dynamo.ts';

const persistenceStore = new DynamoDBPersistenceLayer({ tableName: required(ENV.idempotencyTable), awsSdkV3Client: dynamoClient });

const config = new IdempotencyConfig({
  eventKeyJmesPath: '[scope, principal, key]',
  payloadValidationJmesPath: 'body',
  expiresAfterSeconds: 24 * 3600,
  throwOnNoIdempotencyKey: true,
});

export interface IdempotentCall<T> {
  /** The invocation's context, so an in-progress record expires with the Lambda timeout. */
  lambda: Context;
  /** What the key is unique within (e.g. the asset name). */
  scope: string;
  principal: string;
  key: string;
  /** The request body: a replay with another body is refused. */
  body: unknown;
  run: () => Promise<T>;
}

// The stored response is what a replay returns: plain JSON (records carry `undefined` fields DynamoDB cannot store).
const once = makeIdempotent(async (call: IdempotentCall<unknown>) => JSON.parse(JSON.stringify(await call.run())) as unknown, { persistenceStore, config });

export async function idempotent<T>(call: IdempotentCall<T>): Promise<T> {
  config.registerLambdaContext(call.lambda);
  try {
    return (await once(call)) as T;
  } catch (err) {
    if (err instanceof IdempotencyValidationError) {
      throw new ArcaError('AlreadyExists', `Idempotency-Key "${call.key}" was already used with a different request body`, { key: call.key });
    }
    if (err instanceof IdempotencyAlreadyInProgressError) {
      throw new ArcaError('AlreadyExists', `a request with Idempotency-Key "${call.key}" is still in progress; retry shortly`, { key: call.key });
    }
    throw err;
  }
}
