/** The events construct (lib/events.ts): outbox wiring, delivery queue and DLQ, secrets key, rule helpers. */
import { describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { ENV } from '../../contract/env.ts';
import { DEFAULT_RETRY, maxAttempts } from '../../contract/retry.ts';
import { TABLES } from '../../contract/tables.ts';
import { ArcaStack } from '../../lib/stack.ts';
import { actionsOfRole, logicalId, newApp, resourcesOf, synth } from './synth.ts';

const { stack, template } = synth();
const registry = stack.registry;
const ev = registry.events;
const ref = (construct: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(construct) });
const arnOf = (construct: Parameters<typeof logicalId>[0]) => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });
const roleOf = (fn: typeof ev.streamFunction) => logicalId(fn.role!);

describe('the outbox: table streams → Outbox function → bus (SPEC R-EVENT)', () => {
  it('streams new and old images of exactly the tables contract/tables.ts marks', () => {
    for (const [name, schema] of Object.entries(TABLES)) {
      const table = resourcesOf(template, 'AWS::DynamoDB::Table')[logicalId(registry.tables[name as keyof typeof TABLES])];
      const stream = (schema as { stream?: boolean }).stream;
      expect(table?.Properties.StreamSpecification, name).toEqual(stream ? { StreamViewType: 'NEW_AND_OLD_IMAGES' } : undefined);
    }
  });

  it('feeds each stream to the Outbox function, reporting failed records, with a failure queue after the retries', () => {
    for (const name of ['assets', 'versions', 'aliases'] as const) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(registry.tables[name]), 'StreamArn'] },
        FunctionName: ref(ev.streamFunction),
        StartingPosition: 'TRIM_HORIZON',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 20,
        DestinationConfig: { OnFailure: { Destination: arnOf(ev.streamFailureQueue) } },
      });
    }
  });

  it('publishes to the registry bus and enqueues deliveries, and nothing more', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(ev.streamFunction)];
    expect(fn?.Properties.Environment).toMatchObject({
      Variables: { [ENV.eventBus]: ref(registry.bus), [ENV.deliveryQueueUrl]: ref(ev.deliveryQueue) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleOf(ev.streamFunction) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'events:PutEvents', Effect: 'Allow', Resource: arnOf(registry.bus) }),
          Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: Match.arrayWith([arnOf(ev.deliveryQueue)]) }),
        ]),
      },
    });
    const actions = actionsOfRole(template, roleOf(ev.streamFunction));
    for (const forbidden of ['kms:Decrypt', 's3:PutObject']) expect(actions).not.toContain(forbidden);
  });

  it('writes DynamoDB only to the lineage table (a new version\'s edges, again from its stream record)', () => {
    const lineageArn = JSON.stringify(arnOf(registry.tables.lineage));
    const writes = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleOf(ev.streamFunction)))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
      .filter((st) => [st.Action].flat().some((a) => /^dynamodb:(PutItem|BatchWriteItem|UpdateItem|DeleteItem)$/.test(a)));
    expect(writes.length).toBeGreaterThan(0);
    for (const st of writes) for (const r of [st.Resource].flat()) expect(JSON.stringify(r)).toContain(lineageArn.slice(1, -1));
    expect(actionsOfRole(template, roleOf(ev.streamFunction))).toContain('dynamodb:BatchWriteItem');
  });
});

describe('webhook deliveries: SQS with backoff, then a dead-letter queue with an alarm', () => {
  it('moves a delivery to the DLQ after the last attempt of the retry schedule', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(ev.deadLetterQueue), maxReceiveCount: maxAttempts(DEFAULT_RETRY) },
      VisibilityTimeout: 180,
      SqsManagedSseEnabled: true,
    });
    expect(maxAttempts(DEFAULT_RETRY)).toBe(19);
  });

  it('alarms as soon as anything lands in the delivery DLQ or the stream failure queue', () => {
    for (const queue of [ev.deadLetterQueue, ev.streamFailureQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(queue), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('delivers from the queue with the HookDelivery function, which can decrypt secrets but not seal them', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(ev.deliveryQueue),
      FunctionName: ref(ev.deliveryFunction),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(ev.deliveryFunction)];
    expect(fn?.Properties.Environment).toMatchObject({
      Variables: { [ENV.hookKeyId]: arnOf(ev.secretsKey), [ENV.hookRetryBaseSeconds]: '30', [ENV.deliveryQueueUrl]: ref(ev.deliveryQueue) },
    });
    const actions = actionsOfRole(template, roleOf(ev.deliveryFunction));
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']));
    expect(actions).not.toContain('kms:Encrypt');
  });

  it('seals secrets with a rotating key: the write API may encrypt only, the read API not at all', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('webhook') });
    const write = actionsOfRole(template, logicalId(registry.apiFunctions.write.role!));
    expect(write.filter((a) => a.startsWith('kms:'))).toEqual(['kms:Encrypt']);
    const read = actionsOfRole(template, logicalId(registry.apiFunctions.read.role!));
    expect(read.filter((a) => a.startsWith('kms:'))).toEqual([]);
    const writeFn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(registry.apiFunctions.write)];
    expect(writeFn?.Properties.Environment).toMatchObject({ Variables: { [ENV.hookKeyId]: arnOf(ev.secretsKey) } });
  });

  it('a retry prop changes the schedule the queue and the worker follow', () => {
    const retry = { baseSeconds: 60, factor: 2, maxDelaySeconds: 3600, windowSeconds: 6 * 3600 };
    const custom = synth({ events: { retry } });
    custom.template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: maxAttempts(retry) },
    });
    const fn = resourcesOf(custom.template, 'AWS::Lambda::Function')[logicalId(custom.stack.registry.events.deliveryFunction)];
    expect(fn?.Properties.Environment).toMatchObject({ Variables: { [ENV.hookRetryBaseSeconds]: '60' } });
  });
});

describe('rules from the on… helpers', () => {
  const s = new ArcaStack(newApp(), 'Arca');
  const r = s.registry;
  const queue = new sqs.Queue(s, 'Pipeline', { enforceSSL: true });
  r.onVersionCreated('DeployFraud', new targets.SqsQueue(queue), { assetPrefix: 'fraud/' });
  r.onVersionPublished('AnyPublished', new targets.SqsQueue(queue));
  r.onAliasUpdated('ChurnAliases', new targets.SqsQueue(queue), { assetPrefix: 'churn/' });
  // An id the construct itself uses for a queue: rules live apart, so this does not collide.
  r.onVersionCreated('Deliveries', new targets.SqsQueue(queue));
  const t = Template.fromStack(s);
  const rules = Object.values(resourcesOf(t, 'AWS::Events::Rule')).filter((x) => x.Properties.EventPattern);

  it.each([
    ['Asset Version Created', { asset: [{ prefix: 'fraud/' }] }],
    ['Asset Version Published', undefined],
    ['Alias Updated', { asset: [{ prefix: 'churn/' }] }],
  ])('%s: on the registry bus, filtered by asset prefix when given', (detailType, detail) => {
    const rule = rules.find(
      (x) => (x.Properties.EventPattern as { 'detail-type': string[] })['detail-type'][0] === detailType && (x.Properties.EventPattern as { detail?: unknown }).detail !== undefined === (detail !== undefined),
    );
    expect(rule?.Properties).toMatchObject({ EventBusName: ref(r.bus), State: 'ENABLED' });
    expect(rule?.Properties.EventPattern).toEqual({ source: ['arca'], 'detail-type': [detailType], ...(detail ? { detail } : {}) });
    expect(rule?.Properties.Targets).toEqual([expect.objectContaining({ Arn: arnOf(queue) })]);
  });
});
