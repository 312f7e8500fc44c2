/**
 * `RegistryConsole`: the web console (local/console/) deployed with the stack (R-UI, R-DEPLOY). Its files sit
 * in a private bucket that only this CloudFront distribution reads (origin access control); the same
 * distribution forwards `/v1/*` to the HTTP API, so the console calls the API on its own origin, exactly as it
 * does in local mode, and needs no CORS on the API. Users sign in through the registry's JWT issuer
 * (authorization code + PKCE, local/console/auth.js), configured by `console/config.json`.
 */
import { fileURLToPath } from 'node:url';
import { Construct } from 'constructs';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { AssetRegistry } from './registry.ts';
import { acknowledgeConsole } from './guardrails.ts';

/** Where the console's files live in its bucket and under the distribution (index.html links `/console/…`). */
export const CONSOLE_PREFIX = 'console';
/** What local/console/auth.js reads to sign in; absent in local mode, where the console asks for the token. */
export const CONSOLE_CONFIG = `${CONSOLE_PREFIX}/config.json`;

export interface RegistryConsoleProps {
  readonly registry: AssetRegistry;
  /** The OAuth client the console signs in with (a public client: no secret). @default the first JWT audience */
  readonly clientId?: string;
  /** @default ['openid', 'email'] */
  readonly scopes?: readonly string[];
  /**
   * Origins the console's browser code exchanges the authorization code at, besides the issuer's: the
   * token endpoint of the discovery document when it is elsewhere (Cognito: the hosted UI domain,
   * `https://<domain>.auth.<region>.amazoncognito.com`). They are the only other origins the CSP lets it reach.
   * @default none
   */
  readonly signInOrigins?: readonly string[];
}

/** The sign-in settings the console reads at `/console/config.json`. */
export interface ConsoleConfig {
  issuer: string;
  clientId: string;
  scopes: string[];
}

const CONSOLE_DIR = fileURLToPath(new URL('../local/console/', import.meta.url));

export class RegistryConsole extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly headers: cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution domain>`: the console's origin, and the redirect URI to register with the issuer. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: RegistryConsoleProps) {
    super(scope, id);
    const { registry } = props;
    const auth = registry.settings.auth;
    if (auth.mode !== 'jwt') {
      throw new Error('RegistryConsole: the console signs users in through a JWT issuer; with auth mode iam there is nobody to sign in with. Use auth jwt, or leave the console out (console: false).');
    }
    const clientId = props.clientId ?? auth.audience[0]!;
    const destroy = registry.settings.removalPolicy === RemovalPolicy.DESTROY;

    const logs = new s3.Bucket(this, 'LogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront standard logs are written with ACLs, which BucketOwnerEnforced would refuse.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: registry.settings.removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'console-bucket/',
      // The console's files are rebuilt from the repository on every deploy: nothing here is data.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const issuerOrigin = new URL(auth.issuer).origin;
    const blobOrigin = `https://${registry.bucket.bucketRegionalDomainName}`;
    // Its own origin (files, and the API under /v1), the blob bucket (presigned uploads and downloads), and
    // sign-in (discovery and the code exchange): nothing else, and never in a frame.
    const csp = [
      "default-src 'self'",
      `connect-src 'self' ${blobOrigin} ${[issuerOrigin, ...(props.signInOrigins ?? [])].join(' ')}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; ');
    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Arca console: strict security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const apiOrigin = new origins.HttpOrigin(`${registry.api.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Arca console',
      defaultRootObject: `${CONSOLE_PREFIX}/index.html`,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'distribution/',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: this.headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        // The API, uncached, with every viewer header (Authorization included) but Host, which must name
        // the API's own domain for API Gateway to route the request.
        '/v1/*': {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.headers,
        },
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    const config: ConsoleConfig = { issuer: auth.issuer, clientId, scopes: [...(props.scopes ?? ['openid', 'email'])] };
    new s3deploy.BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${CONSOLE_PREFIX}/`,
      sources: [s3deploy.Source.asset(CONSOLE_DIR), s3deploy.Source.jsonData('config.json', config)],
      distribution: this.distribution,
      distributionPaths: [`/${CONSOLE_PREFIX}/*`],
      prune: true,
    });
    acknowledgeConsole(this);
  }
}
