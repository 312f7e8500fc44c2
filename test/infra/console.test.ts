/**
 * The console deployed with the stack (R-UI, R-DEPLOY): a private bucket read only by its CloudFront
 * distribution through origin access control, strict security headers, the API on the same origin under
 * /v1/*, the sign-in config written beside the files; none with IAM auth or `console: false`.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { ArcaStack, type ArcaStackProps } from '../../lib/stack.ts';
import type { RegistryAuth } from '../../lib/registry.ts';
import { logicalId, newApp, resourcesOf } from './synth.ts';

const JWT: RegistryAuth = { mode: 'jwt', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool', audience: ['console-client', 'cli-client'] };

function synth(props: ArcaStackProps): { stack: ArcaStack; template: Template; outdir: string } {
  const app = newApp();
  const stack = new ArcaStack(app, 'Arca', props);
  return { stack, template: Template.fromStack(stack), outdir: app.outdir };
}

describe('console (jwt auth)', () => {
  const { stack, template, outdir } = synth({ registry: { auth: JWT }, console: { signInOrigins: ['https://arca.auth.eu-west-1.amazoncognito.com'] } });
  const consoleBucket = logicalId(stack.console!.bucket);
  const [distributionId, distribution] = Object.entries(resourcesOf(template, 'AWS::CloudFront::Distribution'))[0]!;
  const config = distribution.Properties.DistributionConfig as Record<string, unknown>;

  it('keeps its files in a private, encrypted bucket that only the distribution reads, through OAC', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[consoleBucket]!;
    expect(bucket.Properties.BucketEncryption).toBeDefined();
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const s3Origin = (config.Origins as { S3OriginConfig?: unknown; OriginAccessControlId?: unknown; DomainName: unknown }[]).find((o) => o.S3OriginConfig);
    expect(s3Origin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/OriginAccessControl/), 'Id'] });
    expect(s3Origin?.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(config.DefaultRootObject).toBe('console/index.html');
  });

  it('lets CloudFront read the bucket only for this distribution (the bucket policy), and denies plain HTTP', () => {
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find((p) => (p.Properties.Bucket as { Ref: string }).Ref === consoleBucket)!;
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const cloudfrontRead = statements.filter((s) => (s.Principal as { Service?: string } | undefined)?.Service === 'cloudfront.amazonaws.com');
    expect(cloudfrontRead).toHaveLength(1);
    expect(cloudfrontRead[0]).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    expect(JSON.stringify(cloudfrontRead[0]!.Condition)).toContain(distributionId);
    expect(cloudfrontRead[0]!.Condition).toMatchObject({ StringEquals: { 'AWS:SourceArn': expect.anything() } });
    expect(statements.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }))).toBe(true);
  });

  it('answers with strict security headers: CSP of self, the blob bucket and sign-in only; HSTS; no framing; nosniff; no referrer', () => {
    const [policy] = Object.values(resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy'));
    const headers = (policy!.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>> }).SecurityHeadersConfig;
    expect(headers.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 730 * 86400, IncludeSubdomains: true, Preload: true, Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    const csp = JSON.stringify(stack.resolve(headers.ContentSecurityPolicy!.ContentSecurityPolicy));
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://");
    expect(csp).toContain('https://cognito-idp.eu-west-1.amazonaws.com https://arca.auth.eu-west-1.amazoncognito.com');
    expect(csp).toContain(logicalId(stack.registry.bucket));
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    // Both behaviors (files and API) carry it.
    const policyId = Object.keys(resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy'))[0];
    const behaviors = [config.DefaultCacheBehavior, ...(config.CacheBehaviors as unknown[])] as { ResponseHeadersPolicyId: unknown }[];
    for (const b of behaviors) expect(b.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
  });

  it('forwards /v1/* to the HTTP API uncached over HTTPS, so the console calls the API on its own origin', () => {
    const [api] = config.CacheBehaviors as Record<string, unknown>[];
    expect(api).toMatchObject({
      PathPattern: '/v1/*',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      // Managed policies: CachingDisabled, AllViewerExceptHostHeader.
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const apiOrigin = (config.Origins as { Id: string; DomainName: unknown; CustomOriginConfig?: Record<string, unknown> }[]).find((o) => o.CustomOriginConfig)!;
    expect(JSON.stringify(apiOrigin.DomainName)).toContain(logicalId(stack.registry.api));
    expect(apiOrigin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    expect(config.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https' });
    expect(config.Logging).toBeDefined();
  });

  it('deploys the console files and the sign-in config under console/, and names the URL', () => {
    const [deployment] = Object.values(resourcesOf(template, 'Custom::CDKBucketDeployment'));
    expect(deployment!.Properties).toMatchObject({ DestinationBucketKeyPrefix: 'console/', Prune: true, DistributionPaths: ['/console/*'] });
    const assets = (deployment!.Properties.SourceObjectKeys as string[]).map((key) => join(outdir, `asset.${key.replace(/\.zip$/, '')}`));
    expect(assets.map((dir) => readdirSync(dir).sort())).toEqual([['app.js', 'auth.js', 'console.css', 'index.html', 'pkce.js'], ['config.json']]);
    // What auth.js reads: the issuer, the first audience as the client id (not the CLI's), the scopes.
    expect(JSON.parse(readFileSync(join(assets[1]!, 'config.json'), 'utf8'))).toEqual({ issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool', clientId: 'console-client', scopes: ['openid', 'email'] });
    template.hasOutput('ConsoleUrl', { Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] } });
  });
});

describe('no console', () => {
  it.each([
    ['with IAM auth (the default): a browser has no SigV4 credentials to sign in with', {}],
    ['with console: false', { registry: { auth: JWT }, console: false }],
  ] as [string, ArcaStackProps][])('%s', (_name, props) => {
    const { stack, template } = synth(props);
    expect(stack.console).toBeUndefined();
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('Custom::CDKBucketDeployment', 0);
    expect(Object.keys(template.findOutputs('ConsoleUrl'))).toEqual([]);
  });
});

it('refuses a console on an IAM registry when built directly', async () => {
  const { RegistryConsole } = await import('../../lib/console.ts');
  const stack = new ArcaStack(newApp(), 'Arca', {});
  expect(() => new RegistryConsole(stack, 'Console', { registry: stack.registry })).toThrow(/auth mode iam/);
});
