import { describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { ROUTE_GROUPS } from '../../contract/routes.ts';
import { TABLES, type TableName } from '../../contract/tables.ts';
import { GROUP_ACCESS, tableEnvName } from '../../lib/access.ts';
import { actionsOfRole, logicalId, resourcesOf, synth } from './synth.ts';

const { stack, template } = synth();
const registry = stack.registry;
const functions = resourcesOf(template, 'AWS::Lambda::Function');
const ours = [...registry.functions.entries()].map(([id, fn]) => [id, functions[logicalId(fn)]!] as const);

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:PutObjectLegalHold',
];

describe('functions (SPEC R-DEPLOY)', () => {
  it('has one function per route group and one per job, and every function of the stack is built by addFunction', () => {
    expect([...registry.functions.keys()]).toEqual(expect.arrayContaining(['ApiRead', 'ApiWrite', 'Finalize', 'Gc', 'Sweeper']));
    expect(Object.keys(registry.apiFunctions).sort()).toEqual([...ROUTE_GROUPS].sort());
    // Only CDK's own bucket-notifications handler (a deploy-time custom resource) is not one of ours.
    const others = Object.keys(functions).filter((id) => !ours.some(([, fn]) => fn === functions[id]));
    expect(others.map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(['BucketNotificationsHandler050a0587b7544547bf325f094a3db834']);
  });

  it.each(ours)('%s: Node.js 24 on arm64, traced, with explicit memory, timeout and its own log group', (_id, fn) => {
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: expect.any(Number),
      Timeout: expect.any(Number),
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
    });
    const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]!.Properties.RetentionInDays).toBe(90);
    expect(fn.Properties.Environment).toMatchObject({ Variables: { POWERTOOLS_SERVICE_NAME: 'arca', POWERTOOLS_METRICS_NAMESPACE: 'Arca' } });
    // Source maps are read by the bundle when a trace is formatted (functions/shared/bundleStackTraces.ts), not by the flag at every cold start.
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.NODE_OPTIONS).toBeUndefined();
  });

  it.each([...registry.functions])('%s may send its traces to X-Ray (Powertools tracer, functions/shared/observability.ts)', (_id, fn) => {
    expect(actionsOfRole(template, logicalId(fn.role!))).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
  });

  it('a read function role cannot write anything', () => {
    const actions = actionsOfRole(template, logicalId(registry.apiFunctions.read.role!));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 's3:GetObject']));
    expect(actions.filter((a) => WRITE_ACTIONS.includes(a))).toEqual([]);
  });

  it('the write function may write metadata and presign uploads, but not delete blobs', () => {
    const actions = actionsOfRole(template, logicalId(registry.apiFunctions.write.role!));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 's3:PutObject']));
    expect(actions).not.toContain('s3:DeleteObject');
    expect(actions).not.toContain('s3:PutObjectLegalHold'); // only with objectLock
  });

  it('only the write function writes grants; the read function reads them; no job touches them', () => {
    const grantsArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(registry.tables.grants), 'Arn'] });
    const onGrants = (fn: (typeof registry.functions extends Map<string, infer F> ? F : never)) =>
      Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === logicalId(fn.role!)))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
        .filter((st) => JSON.stringify(st.Resource).includes(grantsArn))
        .flatMap((st) => [st.Action].flat());
    expect(onGrants(registry.apiFunctions.write)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']));
    const read = onGrants(registry.apiFunctions.read);
    expect(read).toEqual(expect.arrayContaining(['dynamodb:Scan', 'dynamodb:Query']));
    expect(read.filter((a) => WRITE_ACTIONS.includes(a))).toEqual([]);
    for (const id of ['Finalize', 'Gc', 'Sweeper']) expect(onGrants(registry.functions.get(id)!)).toEqual([]);
  });

  it('no role uses a managed policy or a wildcard action', () => {
    for (const fn of registry.functions.values()) {
      const role = resourcesOf(template, 'AWS::IAM::Role')[logicalId(fn.role!)]!;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(actionsOfRole(template, logicalId(fn.role!)).filter((a) => a.includes('*') && !a.startsWith('xray:'))).toEqual([]);
    }
  });

  it.each(ROUTE_GROUPS)('the %s function is granted exactly the tables its access declares', (group) => {
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === logicalId(registry.apiFunctions[group].role!)),
    );
    const granted = new Set(
      JSON.stringify(policies.map((p) => p.Properties.PolicyDocument))
        .match(/"Fn::GetAtt":\["(\w+)","Arn"\]/g)!
        .map((m) => m.split('"')[3]),
    );
    const tableIds = (Object.keys(TABLES) as TableName[]).map((t) => [t, logicalId(registry.tables[t])] as const);
    expect(tableIds.filter(([, id]) => granted.has(id)).map(([t]) => t).sort()).toEqual(Object.keys(GROUP_ACCESS[group].tables).sort());
  });

  it.each(ROUTE_GROUPS)('the %s function is told every table and setting by the names in contract/env.ts', (group) => {
    const fn = functions[logicalId(registry.apiFunctions[group])]!;
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const t of Object.keys(TABLES) as TableName[]) expect(vars[tableEnvName(t)]).toEqual({ Ref: logicalId(registry.tables[t]) });
    expect(vars).toMatchObject({
      [ENV.bucket]: { Ref: logicalId(registry.bucket) },
      [ENV.maxVersionsPerAsset]: '30',
      [ENV.maxFormatsPerVersion]: '3',
      [ENV.multipartThreshold]: String(64 * 1024 * 1024),
      [ENV.presignGetTtl]: '900',
      [ENV.presignPutTtl]: '3600',
      [ENV.pendingTtlHours]: '24',
      [ENV.authMode]: 'iam',
      [ENV.verifyMode]: 's3-checksum',
      [ENV.grants]: '[]',
      [ENV.grantsCacheSeconds]: '30',
    });
  });

  it('the garbage collector reads the Outputs table (blobs of unexpired outputs stay) and cannot write it', () => {
    const outputsArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(registry.tables.outputs), 'Arn'] });
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === logicalId(registry.gcFunction.role!)))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
      .filter((st) => JSON.stringify(st.Resource).includes(outputsArn));
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:Scan']));
    expect(actions.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    const gcVars = (functions[logicalId(registry.gcFunction)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(gcVars[tableEnvName('outputs')]).toEqual({ Ref: logicalId(registry.tables.outputs) });
  });

  it('runs the sweeper every 15 minutes and the garbage collector every 6 hours', () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).map((r) => r.Properties);
    expect(rules).toContainEqual(
      expect.objectContaining({ ScheduleExpression: 'rate(15 minutes)', Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(registry.sweeperFunction), 'Arn'] } })] }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ ScheduleExpression: 'rate(6 hours)', Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(registry.gcFunction), 'Arn'] } })] }),
    );
    const gcVars = (functions[logicalId(registry.gcFunction)]!.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(gcVars[ENV.gcGraceHours]).toBe('48');
  });
});
