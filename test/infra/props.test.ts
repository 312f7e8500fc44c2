import { describe, expect, it } from 'vitest';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Match } from 'aws-cdk-lib/assertions';
import { ENV } from '../../contract/env.ts';
import { consolePropsFromContext, registryPropsFromContext } from '../../lib/context.ts';
import { resolveSettings, type AssetRegistryProps } from '../../lib/registry.ts';
import { actionsOfRole, logicalId, resourcesOf, synth } from './synth.ts';

/** The env of the write function after synthesizing with `props`. */
function writeEnv(props: AssetRegistryProps): Record<string, unknown> {
  const { stack, template } = synth(props);
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack.registry.apiFunctions.write)]!;
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('AssetRegistry props change the template as documented', () => {
  it.each([
    ['maxVersionsPerAsset', { maxVersionsPerAsset: 50 }, ENV.maxVersionsPerAsset, '50'],
    ['maxFormatsPerVersion', { maxFormatsPerVersion: 5 }, ENV.maxFormatsPerVersion, '5'],
    ['multipartThreshold', { multipartThreshold: 16 * 1024 * 1024 }, ENV.multipartThreshold, String(16 * 1024 * 1024)],
    ['presignGetTtlSeconds', { presignGetTtlSeconds: 300 }, ENV.presignGetTtl, '300'],
    ['presignPutTtlSeconds', { presignPutTtlSeconds: 7200 }, ENV.presignPutTtl, '7200'],
    ['grantsCacheSeconds', { grantsCacheSeconds: 5 }, ENV.grantsCacheSeconds, '5'],
    ['grantsCacheSeconds 0 (no cache)', { grantsCacheSeconds: 0 }, ENV.grantsCacheSeconds, '0'],
    ['initialAdmins', { initialAdmins: ['arn:aws:iam::123456789012:role/Admin'] }, ENV.grants, JSON.stringify([{ principal: 'arn:aws:iam::123456789012:role/Admin', prefix: '', role: 'admin' }])],
    [
      'grants (after initialAdmins)',
      { initialAdmins: ['arn:aws:iam::123456789012:role/Admin'], grants: [{ principal: 'group:ml', prefix: 'ml/', role: 'publisher' }] },
      ENV.grants,
      JSON.stringify([
        { principal: 'arn:aws:iam::123456789012:role/Admin', prefix: '', role: 'admin' },
        { principal: 'group:ml', prefix: 'ml/', role: 'publisher' },
      ]),
    ],
  ] as [string, AssetRegistryProps, string, string][])('%s reaches the functions', (_name, props, envName, value) => {
    expect(writeEnv(props)[envName]).toBe(value);
  });

  it('pendingTtlHours reaches the functions, the multipart abort rule and the GC grace period', () => {
    const { stack, template } = synth({ pendingTtlHours: 72 });
    const fns = resourcesOf(template, 'AWS::Lambda::Function');
    const vars = (id: string) => (fns[id]!.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(vars(logicalId(stack.registry.sweeperFunction))[ENV.pendingTtlHours]).toBe('72');
    expect(vars(logicalId(stack.registry.gcFunction))[ENV.gcGraceHours]).toBe('96');
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[logicalId(stack.registry.bucket)]!;
    expect((bucket.Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 4 } }),
    );
  });

  it('gcGracePeriodHours sets the collector grace period', () => {
    const { stack, template } = synth({ gcGracePeriodHours: 168 });
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack.registry.gcFunction)]!;
    expect((fn.Properties.Environment as { Variables: Record<string, string> }).Variables[ENV.gcGraceHours]).toBe('168');
  });

  it('auth jwt puts a JWT authorizer on every route but health and the OpenAPI document', () => {
    const { stack, template } = synth({ auth: { mode: 'jwt', issuer: 'https://issuer.example.com', audience: ['arca'] } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['arca'] },
    });
    for (const route of Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route'))) {
      expect([route.Properties.RouteKey, route.Properties.AuthorizationType]).toEqual([
        route.Properties.RouteKey,
        ['GET /v1/health', 'GET /v1/openapi.json'].includes(route.Properties.RouteKey as string) ? 'NONE' : 'JWT',
      ]);
    }
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack.registry.apiFunctions.read)]!;
    expect((fn.Properties.Environment as { Variables: Record<string, string> }).Variables[ENV.authMode]).toBe('jwt');
  });

  it('objectLock enables Object Lock on the bucket and lets the write function place legal holds', () => {
    const { stack, template } = synth({ objectLock: true });
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[logicalId(stack.registry.bucket)]!;
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(actionsOfRole(template, logicalId(stack.registry.apiFunctions.write.role!))).toEqual(
      expect.arrayContaining(['s3:PutObjectLegalHold', 's3:GetObjectLegalHold']),
    );
    expect(actionsOfRole(template, logicalId(stack.registry.apiFunctions.read.role!))).not.toContain('s3:PutObjectLegalHold');
    expect(writeEnv({ objectLock: true })[ENV.objectLock]).toBe('true');
  });

  it('objectLock lets the garbage collector lift legal holds (of blobs it is about to delete), and nothing more on S3', () => {
    const { stack, template } = synth({ objectLock: true });
    const gc = actionsOfRole(template, logicalId(stack.registry.gcFunction.role!));
    expect(gc).toEqual(expect.arrayContaining(['s3:PutObjectLegalHold', 's3:DeleteObject']));
    expect(gc.filter((a) => a.startsWith('s3:') && !['s3:PutObjectLegalHold', 's3:GetObjectLegalHold', 's3:DeleteObject', 's3:ListBucket'].includes(a))).toEqual([]);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack.registry.gcFunction)]!;
    expect((fn.Properties.Environment as { Variables: Record<string, string> }).Variables[ENV.objectLock]).toBe('true');
    // Without objectLock there is no hold to lift, and no permission to.
    const plain = synth();
    expect(actionsOfRole(plain.template, logicalId(plain.stack.registry.gcFunction.role!))).not.toContain('s3:PutObjectLegalHold');
  });

  it('without objectLock the bucket has no Object Lock', () => {
    const { stack, template } = synth();
    expect(resourcesOf(template, 'AWS::S3::Bucket')[logicalId(stack.registry.bucket)]!.Properties.ObjectLockEnabled ?? false).toBe(false);
  });

  it('removalPolicy DESTROY deletes tables and empties the bucket, still only through the GC and the emptier', () => {
    const { stack, template } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    for (const table of Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
    expect(resourcesOf(template, 'AWS::S3::Bucket')[logicalId(stack.registry.bucket)]!.DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find(
      (p) => (p.Properties.Bucket as { Ref: string }).Ref === logicalId(stack.registry.bucket),
    )!;
    const deny = (policy.Properties.PolicyDocument as { Statement: { Sid?: string; Condition?: { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } } }[] }).Statement.find(
      (s) => s.Sid === 'DenyDeleteExceptGarbageCollector',
    );
    expect(deny!.Condition!.ArnNotEquals['aws:PrincipalArn']).toHaveLength(2);
  });

  it('logRetention sets the retention of every function log group and of the access logs', () => {
    const { template } = synth({ logRetention: RetentionDays.ONE_YEAR });
    const groups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(1);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(365);
  });

  it('corsAllowedOrigins limits browser API calls, uploads and downloads to those origins', () => {
    const { stack, template } = synth({ corsAllowedOrigins: ['https://console.example.com'] });
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[logicalId(stack.registry.bucket)]!;
    expect((bucket.Properties.CorsConfiguration as { CorsRules: { AllowedOrigins: string[] }[] }).CorsRules[0]!.AllowedOrigins).toEqual([
      'https://console.example.com',
    ]);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://console.example.com'],
        AllowHeaders: Match.arrayWith(['authorization', 'if-match', 'idempotency-key']),
        ExposeHeaders: ['etag', 'location', 'x-request-id'],
      },
    });
  });

  it("tracing: active (default) and sdk trace every function through Lambda; off turns tracing and its X-Ray permissions off", () => {
    for (const tracing of [undefined, 'active', 'sdk', 'off'] as const) {
      const { stack, template } = synth(tracing ? { tracing } : {});
      for (const fn of stack.registry.functions.values()) {
        const props = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(fn)]!.Properties;
        const xray = actionsOfRole(template, logicalId(fn.role!)).filter((a) => a.startsWith('xray:'));
        if (tracing === 'off') expect([props.TracingConfig, xray]).toEqual([undefined, []]);
        else expect([props.TracingConfig, xray.sort()]).toEqual([{ Mode: 'Active' }, ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']]);
      }
    }
  });

  it('throttle sets the stage limits', () => {
    const { template } = synth({ throttle: { rateLimit: 10, burstLimit: 20 } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
  });
});

describe('props are validated early, with the fix in the message', () => {
  it.each([
    [{ maxVersionsPerAsset: 0 }, /maxVersionsPerAsset must be an integer from 1 to 1000, got 0.*-c maxVersionsPerAsset=.*default 30/],
    [{ maxVersionsPerAsset: 1001 }, /maxVersionsPerAsset must be an integer from 1 to 1000, got 1001/],
    [{ maxVersionsPerAsset: 2.5 }, /maxVersionsPerAsset must be an integer/],
    [{ maxFormatsPerVersion: 0 }, /maxFormatsPerVersion must be an integer from 1 to 100/],
    [{ multipartThreshold: 1024 }, /multipartThreshold must be an integer from 5242880/],
    [{ presignPutTtlSeconds: 8 * 24 * 3600 }, /presignPutTtlSeconds must be an integer from 1 to 604800/],
    [{ pendingTtlHours: 0 }, /pendingTtlHours must be an integer from 1 to 720/],
    [{ pendingTtlHours: 24, gcGracePeriodHours: 24 }, /gcGracePeriodHours must be an integer from 25/],
    [{ auth: { mode: 'jwt', issuer: 'http://insecure', audience: ['a'] } }, /jwt needs an https issuer URL and at least one audience/],
    [{ auth: { mode: 'jwt', issuer: 'https://issuer', audience: [] } }, /at least one audience/],
    [{ grants: [{ principal: 'arn:aws:s3:::bucket', prefix: '', role: 'reader' }] }, /deploy-time grant 0 .*principal: must be an IAM principal ARN/],
    [{ grants: [{ principal: 'group:ml', prefix: 'Team/', role: 'reader' }] }, /deploy-time grant 0 .*prefix: must be empty/],
    [{ initialAdmins: ['not an arn'] }, /deploy-time grant 0 .*principal/],
    [{ grantsCacheSeconds: 3601 }, /grantsCacheSeconds must be an integer from 0 to 3600/],
    [{ grantsCacheSeconds: -1 }, /grantsCacheSeconds must be an integer from 0 to 3600/],
    [{ tracing: 'xray' }, /tracing must be one of active, sdk, off, got "xray".*-c tracing=/],
  ] as [AssetRegistryProps, RegExp][])('%j is refused', (props, message) => {
    expect(() => resolveSettings(props)).toThrow(message);
    expect(() => synth(props)).toThrow(message);
  });

  it('defaults are the documented ones', () => {
    expect(resolveSettings()).toEqual({
      maxVersionsPerAsset: 30,
      maxFormatsPerVersion: 3,
      multipartThreshold: 64 * 1024 * 1024,
      presignGetTtlSeconds: 900,
      presignPutTtlSeconds: 3600,
      pendingTtlHours: 24,
      gcGracePeriodHours: 48,
      auth: { mode: 'iam' },
      initialAdmins: [],
      grants: [],
      grantsCacheSeconds: 30,
      objectLock: false,
      removalPolicy: RemovalPolicy.RETAIN,
      tracing: 'active',
    });
  });
});

describe('props from context (cdk deploy -c KEY=VALUE)', () => {
  const fromContext = (context: Record<string, unknown>) => registryPropsFromContext(new App({ context }).node);

  it('parses command-line strings into props', () => {
    expect(
      fromContext({
        maxVersionsPerAsset: '50',
        presignGetTtlSeconds: '60',
        auth: 'jwt',
        jwtIssuer: 'https://issuer.example.com',
        jwtAudience: 'a,b',
        initialAdmins: 'arn:aws:iam::1:role/A, arn:aws:iam::1:role/B',
        grants: '[{"principal":"group:ml","prefix":"ml/","role":"writer"}]',
        grantsCacheSeconds: '10',
        objectLock: 'true',
        removalPolicy: 'destroy',
        tracing: 'sdk',
      }),
    ).toEqual({
      maxVersionsPerAsset: 50,
      presignGetTtlSeconds: 60,
      auth: { mode: 'jwt', issuer: 'https://issuer.example.com', audience: ['a', 'b'] },
      initialAdmins: ['arn:aws:iam::1:role/A', 'arn:aws:iam::1:role/B'],
      grants: [{ principal: 'group:ml', prefix: 'ml/', role: 'writer' }],
      grantsCacheSeconds: 10,
      objectLock: true,
      removalPolicy: RemovalPolicy.DESTROY,
      tracing: 'sdk',
    });
  });

  it('leaves unset keys to the construct defaults', () => {
    expect(fromContext({})).toEqual({});
  });

  it('reads the console keys: off with console=false, else its sign-in settings', () => {
    const consoleFrom = (context: Record<string, unknown>) => consolePropsFromContext(new App({ context }).node);
    expect(consoleFrom({ console: 'false' })).toBe(false);
    expect(consoleFrom({})).toEqual({});
    expect(consoleFrom({ consoleClientId: 'web', consoleScopes: 'openid,profile', consoleSignInOrigins: 'https://a.auth.eu-west-1.amazoncognito.com' })).toEqual({
      clientId: 'web',
      scopes: ['openid', 'profile'],
      signInOrigins: ['https://a.auth.eu-west-1.amazoncognito.com'],
    });
    expect(() => consoleFrom({ console: 'maybe' })).toThrow(/console must be true or false/);
  });

  it.each([
    [{ maxVersionsPerAsset: 'many' }, /maxVersionsPerAsset must be a number/],
    [{ objectLock: 'yes' }, /objectLock must be true or false/],
    [{ removalPolicy: 'snapshot' }, /removalPolicy must be retain or destroy/],
    [{ auth: 'jwt' }, /needs -c jwtIssuer=/],
    [{ auth: 'basic' }, /auth must be iam or jwt/],
  ])('%j is refused', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });
});
