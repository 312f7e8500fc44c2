import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { BLOB_PREFIX, uploadKey, uploadNonce } from '../../contract/keys.ts';
import { actionsOfRole, logicalId, resourcesOf, synth } from './synth.ts';

const { stack, template } = synth();
const registry = stack.registry;
const bucketId = logicalId(registry.bucket);
const bucket = resourcesOf(template, 'AWS::S3::Bucket')[bucketId]!;

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find(
  (p) => (p.Properties.Bucket as { Ref: string }).Ref === bucketId,
)!;
const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

describe('blob bucket (SPEC R-SEC, R-STORE)', () => {
  it('blocks public access, encrypts, versions and is retained', () => {
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(bucket.Properties.LoggingConfiguration).toMatchObject({ DestinationBucketName: { Ref: logicalId(registry.node.findChild('AccessLogsBucket')) } });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('aborts incomplete multipart uploads once a pending version has expired', () => {
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Status: 'Enabled' }));
  });

  it('allows browser uploads with the signed headers and exposes the ETag', () => {
    const [rule] = (bucket.Properties.CorsConfiguration as { CorsRules: Record<string, string[]>[] }).CorsRules;
    expect(rule!.AllowedMethods).toContain('PUT');
    expect(rule!.AllowedHeaders).toEqual(expect.arrayContaining(['content-length', 'if-none-match', 'x-amz-checksum-sha256']));
    expect(rule!.ExposedHeaders).toContain('ETag');
  });

  it('refuses TLS-less requests', () => {
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('denies every object creation without If-None-Match, but lets multipart parts through', () => {
    const createOnly = statements.find((s) => s.Sid === 'DenyObjectCreationWithoutIfNoneMatch');
    expect(createOnly).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Condition: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
    });
    // No other statement restricts s3:PutObject: CreateMultipartUpload and UploadPart must stay possible.
    const putDenies = statements.filter((s) => s.Effect === 'Deny' && [s.Action].flat().includes('s3:PutObject'));
    expect(putDenies).toHaveLength(1);
  });

  it('lets nobody but the garbage collector delete an object, and nobody delete a version', () => {
    const gcRole = logicalId(registry.gcFunction.role!);
    expect(statements.find((s) => s.Sid === 'DenyDeleteExceptGarbageCollector')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:DeleteObject',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [gcRole, 'Arn'] }] } },
    });
    expect(statements.find((s) => s.Sid === 'DenyDeleteObjectVersion')).toMatchObject({ Effect: 'Deny', Action: 's3:DeleteObjectVersion' });
    for (const [id, fn] of registry.functions) {
      const actions = actionsOfRole(template, logicalId(fn.role!));
      if (id === 'Gc') expect(actions).toContain('s3:DeleteObject');
      else expect(actions.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    }
  });

  it('covers per-upload keys (blobs/sha256/<hex>/<nonce>) with every object grant, the create-only and delete rules, and the event filter', () => {
    const key = uploadKey('ab'.repeat(32), uploadNonce());
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    /** The key pattern of an object ARN of the blob bucket (`<bucket arn>/<pattern>`), or undefined for another resource. */
    const objectPattern = (resource: unknown): string | undefined => {
      const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1];
      const [arn, suffix] = join ?? [];
      return JSON.stringify(arn) === JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] }) && typeof suffix === 'string' ? suffix.slice(1) : undefined;
    };
    const patternsOf = (statements: { Resource?: unknown }[]) => statements.flatMap((st) => [st.Resource].flat().flatMap((r) => objectPattern(r) ?? []));

    for (const sid of ['DenyObjectCreationWithoutIfNoneMatch', 'DenyDeleteExceptGarbageCollector', 'DenyDeleteObjectVersion']) {
      const patterns = patternsOf(statements.filter((st) => st.Sid === sid) as { Resource?: unknown }[]);
      expect(patterns.length, sid).toBeGreaterThan(0);
      for (const p of patterns) expect(key, `${sid} on ${p}`).toMatch(glob(p));
    }
    const granted = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) => patternsOf((p.Properties.PolicyDocument as { Statement: { Resource?: unknown }[] }).Statement));
    expect(granted.length).toBeGreaterThan(0);
    for (const p of granted) expect(key, p).toMatch(glob(p));
    expect(key.startsWith('blobs/')).toBe(true); // the ObjectCreated filter below
    expect(BLOB_PREFIX).toMatch(glob('blobs/*')); // the collector's ListBucket condition on s3:prefix
  });

  it('sends ObjectCreated events under blobs/ to the finalize function', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'blobs/' }] } },
            LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(registry.finalizeFunction), 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 's3.amazonaws.com',
      FunctionName: Match.objectLike({ 'Fn::GetAtt': [logicalId(registry.finalizeFunction), 'Arn'] }),
    });
  });
});
