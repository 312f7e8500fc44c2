/**
 * `RegistryEvents`: the registry's outbox and webhooks (R-EVENT), part of `AssetRegistry`.
 *
 *   table streams (assets, versions, aliases) ──▶ Events function ──▶ the registry's EventBridge bus
 *                                                        └──▶ SQS delivery queue ──▶ HookDelivery function ──▶ HTTPS
 *
 * - The streams carry committed item changes only, so a cancelled transaction never emits (the outbox).
 *   A record that keeps failing goes, after the retries, to a failure queue with an alarm.
 * - A failed delivery waits on the queue for the next delay of functions/events/retry.ts; after the last
 *   attempt (about 24 h) the redrive policy moves it to a dead-letter queue, which raises an alarm.
 * - Webhook secrets are sealed with a KMS key of their own: the write API encrypts, the delivery decrypts.
 * - `onVersionCreated` & co. route events to any EventBridge target, filtered by asset-name prefix.
 */
import { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EVENT_SOURCE, type DetailType } from '../contract/events.ts';
import { ENV } from '../contract/env.ts';
import { TABLES, type TableName, type TableSchema } from '../contract/tables.ts';
import { DEFAULT_RETRY, maxAttempts, type RetryPolicy } from '../contract/retry.ts';
import type { AssetRegistry } from './registry.ts';

export interface RegistryEventsProps {
  /** The webhook retry schedule; its attempts set the delivery queue's maxReceiveCount. @default DEFAULT_RETRY (30 s doubling to 2 h, for 24 h) */
  readonly retry?: RetryPolicy;
  /** Times Lambda retries a stream batch that fails before it goes to the failure queue. @default 20 */
  readonly streamRetryAttempts?: number;
}

export interface EventRuleOptions {
  /** Only events of assets whose name starts with this. @default every asset */
  readonly assetPrefix?: string;
}

/** The event pattern of a detail type, optionally narrowed to an asset-name prefix. */
export function eventPattern(detailTypes: readonly DetailType[], opts: EventRuleOptions = {}): events.EventPattern {
  return {
    source: [EVENT_SOURCE],
    detailType: [...detailTypes],
    ...(opts.assetPrefix ? { detail: { asset: events.Match.prefix(opts.assetPrefix) } } : {}),
  };
}

export class RegistryEvents extends Construct {
  /** Reads the table streams and publishes to the bus and the delivery queue. */
  public readonly streamFunction: NodejsFunction;
  /** Delivers webhooks from the queue. */
  public readonly deliveryFunction: NodejsFunction;
  public readonly deliveryQueue: sqs.Queue;
  /** Deliveries that exhausted their attempts. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Stream batches that failed all their retries (shard and sequence range, to replay within 24 h). */
  public readonly streamFailureQueue: sqs.Queue;
  /** Seals webhook secrets. */
  public readonly secretsKey: kms.Key;

  private readonly bus: events.IEventBus;
  /** The `on…` rules live apart, so a caller's rule id never collides with the construct's own ids. */
  private readonly rules: Construct;

  constructor(registry: AssetRegistry, id: string, props: RegistryEventsProps = {}) {
    super(registry, id);
    this.bus = registry.bus;
    this.rules = new Construct(this, 'Rules');
    const retry = props.retry ?? DEFAULT_RETRY;
    const retain = registry.settings.removalPolicy;

    this.secretsKey = new kms.Key(this, 'HookSecretsKey', {
      description: 'Arca: encrypts webhook signing secrets',
      enableKeyRotation: true,
      // Sealed secrets in the hooks table are useless without it: it follows the data's removal policy.
      removalPolicy: retain,
    });

    const queue = (queueId: string, extra: Partial<sqs.QueueProps> = {}) =>
      new sqs.Queue(this, queueId, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...extra });
    this.deadLetterQueue = queue('DeliveryDeadLetters', { retentionPeriod: Duration.days(14) });
    this.streamFailureQueue = queue('StreamFailures', { retentionPeriod: Duration.days(14) });
    this.deliveryQueue = queue('Deliveries', {
      // At least six times the delivery function's timeout, as Lambda's SQS integration advises.
      visibilityTimeout: Duration.minutes(3),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: maxAttempts(retry) },
    });

    this.streamFunction = registry.addFunction('Outbox', {
      entry: 'functions/events/stream.ts',
      // lineage: a new version's edges are written again from its stream record (BatchWriteItem puts).
      access: { tables: { hooks: 'read', lineage: 'readwrite' }, putEvents: true },
      timeout: Duration.minutes(1),
      memorySize: 512,
      environment: { [ENV.eventBus]: registry.bus.eventBusName, [ENV.deliveryQueueUrl]: this.deliveryQueue.queueUrl },
      description: 'Arca: table streams → events on the bus and webhook deliveries',
    });
    this.deliveryQueue.grantSendMessages(this.streamFunction);
    const streamTables = (Object.entries(TABLES) as [TableName, TableSchema][]).filter(([, schema]) => schema.stream);
    for (const [name] of streamTables) {
      this.streamFunction.addEventSource(
        new DynamoEventSource(registry.tables[name], {
          startingPosition: lambda.StartingPosition.TRIM_HORIZON,
          batchSize: 100,
          reportBatchItemFailures: true,
          bisectBatchOnError: true,
          retryAttempts: props.streamRetryAttempts ?? 20,
          onFailure: new SqsDlq(this.streamFailureQueue),
        }),
      );
    }

    this.deliveryFunction = registry.addFunction('HookDelivery', {
      entry: 'functions/events/worker.ts',
      access: { tables: { hooks: 'read', deliveries: 'readwrite' } },
      timeout: Duration.seconds(30),
      memorySize: 512,
      environment: {
        [ENV.deliveryQueueUrl]: this.deliveryQueue.queueUrl,
        [ENV.hookKeyId]: this.secretsKey.keyArn,
        [ENV.hookRetryBaseSeconds]: String(retry.baseSeconds),
      },
      description: 'Arca: signed webhook deliveries with retries',
    });
    this.deliveryFunction.addEventSource(new SqsEventSource(this.deliveryQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 10 }));
    this.secretsKey.grantDecrypt(this.deliveryFunction);

    // Registering a hook seals its secret.
    const write = registry.apiFunctions.write;
    write.addEnvironment(ENV.hookKeyId, this.secretsKey.keyArn);
    // Encrypt only: `grantEncrypt` would add ReEncrypt* and GenerateDataKey*, which sealing never needs.
    this.secretsKey.grant(write, 'kms:Encrypt');

    for (const [alarmId, q, what] of [
      ['DeliveryDeadLettersAlarm', this.deadLetterQueue, 'webhook deliveries gave up after 24 h of retries'],
      ['StreamFailuresAlarm', this.streamFailureQueue, 'table stream records could not be turned into events'],
    ] as const) {
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `Arca: ${what}`,
        metric: q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /** A rule on the registry's bus for the given detail types; `target` receives each matching event. */
  public on(id: string, detailTypes: readonly DetailType[], target: events.IRuleTarget, opts: EventRuleOptions = {}): events.Rule {
    return new events.Rule(this.rules, id, { eventBus: this.bus, eventPattern: eventPattern(detailTypes, opts), targets: [target] });
  }

  /** "A new version arrived": a version became ready. */
  public onVersionCreated(id: string, target: events.IRuleTarget, opts: EventRuleOptions = {}): events.Rule {
    return this.on(id, ['Asset Version Created'], target, opts);
  }

  public onVersionPublished(id: string, target: events.IRuleTarget, opts: EventRuleOptions = {}): events.Rule {
    return this.on(id, ['Asset Version Published'], target, opts);
  }

  public onAliasUpdated(id: string, target: events.IRuleTarget, opts: EventRuleOptions = {}): events.Rule {
    return this.on(id, ['Alias Updated'], target, opts);
  }
}
