/**
 * `AssetRegistry`: the whole registry as one construct — metadata tables from contract/tables.ts, the
 * create-only blob bucket, one function per route group of contract/routes.ts behind an HTTP API, the
 * finalize / sweeper / GC jobs, the event bus, and alarms. `ArcaStack` (lib/stack.ts) is a thin wrapper;
 * another team can put this construct in its own stack.
 *
 * Seams for other constructs: `tables`, `bucket`, `bus`, `addFunction(id, { entry, access })`.
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { Construct } from 'constructs';
import { CfnResource, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { ROUTES, ROUTE_GROUPS, allRoutes, gatewayRouteKeys, type Method, type Role, type RouteGroup } from '../contract/routes.ts';
import { GrantRequest } from '../contract/schemas.ts';
import { TABLES, type TableName, type TableSchema } from '../contract/tables.ts';
import { DEFAULTS, ENV } from '../contract/env.ts';
import { BLOB_PREFIX, GROUP_ACCESS, JOB_ACCESS, grantAccess, resourceEnvironment, type FunctionAccess } from './access.ts';
import { acknowledgeFindings, acknowledgeFunction } from './guardrails.ts';
import { RegistryEvents, type EventRuleOptions, type RegistryEventsProps } from './events.ts';

/** How callers authenticate. */
export type RegistryAuth =
  /** AWS SigV4: callers need `execute-api:Invoke` on the API; the principal ARN is the identity. */
  | { mode: 'iam' }
  /** A JWT authorizer (Cognito or any OIDC issuer); the token's subject and groups are the identity. */
  | { mode: 'jwt'; issuer: string; audience: string[] };

export interface AssetRegistryProps {
  /** Live versions (pending + ready + published) an asset may hold, 1–1000 (SPEC R-CAP). @default 30 */
  readonly maxVersionsPerAsset?: number;
  /** Distinct formats per version, 1–100 (SPEC R-META). @default 3 */
  readonly maxFormatsPerVersion?: number;
  /** Files above this many bytes upload in parts, 5 MiB–5 GiB (SPEC R-UPLOAD). @default 64 MiB */
  readonly multipartThreshold?: number;
  /** Lifetime of presigned download URLs, 1 s–7 days. @default 900 */
  readonly presignGetTtlSeconds?: number;
  /** Lifetime of presigned upload URLs, 1 s–7 days. @default 3600 */
  readonly presignPutTtlSeconds?: number;
  /** Hours a pending version waits for its bytes before the sweeper expires it, 1–720 (SPEC R-LIFE). @default 24 */
  readonly pendingTtlHours?: number;
  /**
   * Hours an unreferenced blob survives before the garbage collector deletes it; longer than
   * `pendingTtlHours`, so no upload in progress can lose its bytes (SPEC R-STORE). @default pendingTtlHours + 24
   */
  readonly gcGracePeriodHours?: number;
  /** Authentication of every route but the open ones (`GET /v1/health`, `GET /v1/openapi.json`). @default { mode: 'iam' } */
  readonly auth?: RegistryAuth;
  /** Principals (IAM principal ARNs, or JWT subjects/groups) granted `admin` on every asset name. @default none */
  readonly initialAdmins?: readonly string[];
  /**
   * Deploy-time grants: a role on an asset-name prefix (`''`: every name) for an IAM principal ARN, a JWT
   * subject or `group:NAME`. They sit beside the grants admins manage at run time (`/v1/grants`) and are
   * changed only by redeploying. @default none
   */
  readonly grants?: readonly DeployGrant[];
  /**
   * Seconds each function keeps its copy of the grants table, 0–3600 (0: read it on every request). A grant
   * changed at run time reaches every function within this time. @default 30
   */
  readonly grantsCacheSeconds?: number;
  /**
   * S3 Object Lock on the bucket: publishing places a legal hold on the version's blobs (SPEC R-LOCK).
   * Can only be chosen when the bucket is created. @default false
   */
  readonly objectLock?: boolean;
  /**
   * What happens to the tables and the bucket when they leave the stack. With DESTROY the bucket's objects
   * are emptied on deletion (dev stages only). @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Stage-wide API throttling (requests per second, burst). @default { rateLimit: 100, burstLimit: 200 } */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Retention of function and access logs. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** Origins allowed to call the API and upload and download from a browser (the console). @default ['*'] */
  readonly corsAllowedOrigins?: readonly string[];
  /** Events and webhooks: retry schedule, stream retries (lib/events.ts). @default RegistryEvents defaults */
  readonly events?: RegistryEventsProps;
  /** X-Ray tracing of every function (`RegistryTracing`). @default 'active' */
  readonly tracing?: RegistryTracing;
}

/**
 * - `active`: Lambda's active tracing: X-Ray gets a segment per invocation (initialization, duration,
 *   errors) from the Lambda service, and the bundles hold no tracer.
 * - `sdk`: the same plus the Powertools tracer in every bundle (+~90 KiB with the X-Ray SDK, ~10 ms of
 *   cold import): a subsegment per DynamoDB and S3 call and a `route` annotation.
 * - `off`: no tracing, no X-Ray permissions.
 */
export type RegistryTracing = 'active' | 'sdk' | 'off';
export const TRACING_MODES: readonly RegistryTracing[] = ['active', 'sdk', 'off'];

/** A function added to the registry: its handler file and what it may touch. */
export interface RegistryFunctionOptions {
  /** The handler file, relative to the repository root (e.g. `functions/api/read.ts`); it exports `handler`. */
  readonly entry: string;
  readonly access: FunctionAccess;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default 15 seconds */
  readonly timeout?: Duration;
  /** Extra environment, on top of the access-derived and registry-wide variables. */
  readonly environment?: Record<string, string>;
  readonly description?: string;
}

/** The settings after defaults and validation. */
export interface RegistrySettings {
  readonly maxVersionsPerAsset: number;
  readonly maxFormatsPerVersion: number;
  readonly multipartThreshold: number;
  readonly presignGetTtlSeconds: number;
  readonly presignPutTtlSeconds: number;
  readonly pendingTtlHours: number;
  readonly gcGracePeriodHours: number;
  readonly auth: RegistryAuth;
  readonly initialAdmins: readonly string[];
  /** `initialAdmins` as admin grants on every name, then the `grants` prop, validated. */
  readonly grants: readonly DeployGrant[];
  readonly grantsCacheSeconds: number;
  readonly objectLock: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly tracing: RegistryTracing;
}

/** Relative to the repository root, where CDK runs esbuild. */
export const CREDENTIALS_MODULE = 'functions/shared/lambdaCredentials.ts';
export const EVENT_STREAMS_MODULE = 'functions/shared/noEventStreams.ts';
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const WEEK_SECONDS = 7 * 24 * 3600;

function checkInteger(name: string, value: number, min: number, max: number, fallback: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `AssetRegistry: ${name} must be an integer from ${min} to ${max}, got ${value}. ` +
        `Set the ${name} prop (or \`cdk deploy -c ${name}=...\`) within that range, or leave it out for the default ${fallback}.`,
    );
  }
  return value;
}

function checkTracing(value: RegistryTracing): RegistryTracing {
  if (!TRACING_MODES.includes(value)) throw new Error(`AssetRegistry: tracing must be one of ${TRACING_MODES.join(', ')}, got ${JSON.stringify(value)}: set the tracing prop (or \`cdk deploy -c tracing=...\`) to one of them, or leave it out for the default active.`);
  return value;
}

export interface DeployGrant {
  readonly principal: string;
  readonly prefix: string;
  readonly role: Role;
}

function deployGrants(props: AssetRegistryProps): DeployGrant[] {
  const all = [...(props.initialAdmins ?? []).map((principal) => ({ principal, prefix: '', role: 'admin' as const })), ...(props.grants ?? [])];
  return all.map((grant, i) => {
    const parsed = GrantRequest.safeParse(grant);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((x) => `${x.path.join('.') || 'grant'}: ${x.message}`).join('; ');
      throw new Error(`AssetRegistry: deploy-time grant ${i} (${JSON.stringify(grant)}) is not valid: ${problem}. Fix the initialAdmins or grants prop (or -c).`);
    }
    return parsed.data;
  });
}

/** Applies defaults and fails early, with the fix in the message, on out-of-range props. */
export function resolveSettings(props: AssetRegistryProps = {}): RegistrySettings {
  const pendingTtlHours = checkInteger('pendingTtlHours', props.pendingTtlHours ?? DEFAULTS.pendingTtlHours, 1, 720, DEFAULTS.pendingTtlHours);
  const graceDefault = pendingTtlHours + 24;
  const gcGracePeriodHours = checkInteger('gcGracePeriodHours', props.gcGracePeriodHours ?? graceDefault, pendingTtlHours + 1, 24 * 365, graceDefault);
  const auth = props.auth ?? { mode: 'iam' };
  if (auth.mode === 'jwt' && (!/^https:\/\//.test(auth.issuer) || auth.audience.length === 0)) {
    throw new Error(
      'AssetRegistry: auth mode jwt needs an https issuer URL and at least one audience, ' +
        'e.g. { mode: "jwt", issuer: "https://cognito-idp.<region>.amazonaws.com/<pool id>", audience: ["<app client id>"] }.',
    );
  }
  return {
    maxVersionsPerAsset: checkInteger('maxVersionsPerAsset', props.maxVersionsPerAsset ?? DEFAULTS.maxVersionsPerAsset, 1, 1000, DEFAULTS.maxVersionsPerAsset),
    maxFormatsPerVersion: checkInteger('maxFormatsPerVersion', props.maxFormatsPerVersion ?? DEFAULTS.maxFormatsPerVersion, 1, 100, DEFAULTS.maxFormatsPerVersion),
    multipartThreshold: checkInteger('multipartThreshold', props.multipartThreshold ?? DEFAULTS.multipartThreshold, 5 * MiB, 5 * 1024 * MiB, DEFAULTS.multipartThreshold),
    presignGetTtlSeconds: checkInteger('presignGetTtlSeconds', props.presignGetTtlSeconds ?? DEFAULTS.presignGetTtlSeconds, 1, WEEK_SECONDS, DEFAULTS.presignGetTtlSeconds),
    presignPutTtlSeconds: checkInteger('presignPutTtlSeconds', props.presignPutTtlSeconds ?? DEFAULTS.presignPutTtlSeconds, 1, WEEK_SECONDS, DEFAULTS.presignPutTtlSeconds),
    pendingTtlHours,
    gcGracePeriodHours,
    auth,
    initialAdmins: props.initialAdmins ?? [],
    grants: deployGrants(props),
    grantsCacheSeconds: checkInteger('grantsCacheSeconds', props.grantsCacheSeconds ?? DEFAULTS.grantsCacheSeconds, 0, 3600, DEFAULTS.grantsCacheSeconds),
    objectLock: props.objectLock ?? false,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    tracing: checkTracing(props.tracing ?? 'active'),
  };
}

export class AssetRegistry extends Construct {
  /** The metadata tables, by their contract name. */
  public readonly tables: Record<TableName, dynamodb.Table>;
  /** The blob store (`blobs/sha256/<hex>/<upload nonce>`, one object per upload), create-only. */
  public readonly bucket: s3.Bucket;
  /** The registry's EventBridge bus (SPEC R-EVENT); the events construct feeds it from the table streams. */
  public readonly bus: events.EventBus;
  /** The outbox (streams → bus), webhook deliveries, and the `on…` rule helpers. */
  public readonly events: RegistryEvents;
  public readonly api: apigw.HttpApi;
  /** The function serving each route group. */
  public readonly apiFunctions: Record<RouteGroup, NodejsFunction>;
  public readonly finalizeFunction: NodejsFunction;
  public readonly sweeperFunction: NodejsFunction;
  public readonly gcFunction: NodejsFunction;
  public readonly settings: RegistrySettings;
  /** Every function added through `addFunction`, by id, and the options it was declared with. */
  public readonly functions = new Map<string, NodejsFunction>();
  public readonly functionOptions = new Map<string, RegistryFunctionOptions>();

  private readonly logRetention: logs.RetentionDays;
  private readonly baseEnvironment: Record<string, string>;

  constructor(scope: Construct, id: string, props: AssetRegistryProps = {}) {
    super(scope, id);
    const settings = resolveSettings(props);
    this.settings = settings;
    this.logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    this.tables = Object.fromEntries(
      (Object.entries(TABLES) as [TableName, TableSchema][]).map(([name, schema]) => [name, this.createTable(schema)]),
    ) as Record<TableName, dynamodb.Table>;
    this.bus = new events.EventBus(this, 'Bus');
    const corsAllowedOrigins = props.corsAllowedOrigins ?? ['*'];
    this.bucket = this.createBucket(corsAllowedOrigins);

    this.baseEnvironment = {
      ...resourceEnvironment({ tables: this.tables, bucket: this.bucket }),
      POWERTOOLS_SERVICE_NAME: 'arca',
      POWERTOOLS_METRICS_NAMESPACE: 'Arca',
      [ENV.maxVersionsPerAsset]: String(settings.maxVersionsPerAsset),
      [ENV.maxFormatsPerVersion]: String(settings.maxFormatsPerVersion),
      [ENV.multipartThreshold]: String(settings.multipartThreshold),
      [ENV.presignGetTtl]: String(settings.presignGetTtlSeconds),
      [ENV.presignPutTtl]: String(settings.presignPutTtlSeconds),
      [ENV.pendingTtlHours]: String(settings.pendingTtlHours),
      [ENV.objectLock]: String(settings.objectLock),
      // Real S3 checks the signed x-amz-checksum-sha256 of every PUT and part, so the service trusts it.
      [ENV.verifyMode]: 's3-checksum',
      [ENV.authMode]: settings.auth.mode,
      [ENV.grants]: JSON.stringify(settings.grants),
      [ENV.grantsCacheSeconds]: String(settings.grantsCacheSeconds),
    };

    this.apiFunctions = Object.fromEntries(
      ROUTE_GROUPS.map((group) => [
        group,
        this.addFunction(`Api${group[0]!.toUpperCase()}${group.slice(1)}`, {
          entry: `functions/api/${group}.ts`,
          access: GROUP_ACCESS[group],
          description: `Arca API: the ${group} routes`,
        }),
      ]),
    ) as Record<RouteGroup, NodejsFunction>;
    this.api = this.createApi(settings.auth, props.throttle ?? { rateLimit: 100, burstLimit: 200 }, corsAllowedOrigins);

    this.finalizeFunction = this.addFunction('Finalize', {
      entry: 'functions/jobs/finalize.ts',
      access: JOB_ACCESS.finalize,
      // It hashes the blobs commit leaves to it (over the inline limit): 15 min at ~100 MB/s is ~80 GiB.
      // Hashing is single-threaded; 1,769 MB buys one full vCPU.
      timeout: Duration.minutes(15),
      memorySize: 1769,
      description: 'Arca: verify an uploaded blob and mark waiting versions ready',
    });
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.finalizeFunction), {
      prefix: BLOB_PREFIX,
    });

    this.sweeperFunction = this.addFunction('Sweeper', {
      entry: 'functions/jobs/sweeper.ts',
      access: JOB_ACCESS.sweeper,
      timeout: Duration.minutes(10),
      description: 'Arca: expire pending versions past their TTL',
    });
    new events.Rule(this, 'SweeperSchedule', {
      schedule: events.Schedule.rate(Duration.minutes(15)),
      targets: [new targets.LambdaFunction(this.sweeperFunction, { retryAttempts: 2 })],
    });

    this.gcFunction = this.addFunction('Gc', {
      entry: 'functions/jobs/gc.ts',
      access: JOB_ACCESS.gc,
      timeout: Duration.minutes(15),
      environment: { [ENV.gcGraceHours]: String(settings.gcGracePeriodHours) },
      description: 'Arca: delete blobs that no live version references',
    });
    new events.Rule(this, 'GcSchedule', {
      schedule: events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(this.gcFunction, { retryAttempts: 0 })],
    });
    this.denyDeletesExceptGc();

    this.events = new RegistryEvents(this, 'Events', props.events);

    this.createApiAlarm();
    acknowledgeFindings(this);
  }

  /** Routes "a new version arrived" (`Asset Version Created`) to `target`, optionally for one asset-name prefix. */
  public onVersionCreated(id: string, target: events.IRuleTarget, opts?: EventRuleOptions): events.Rule {
    return this.events.onVersionCreated(id, target, opts);
  }

  public onVersionPublished(id: string, target: events.IRuleTarget, opts?: EventRuleOptions): events.Rule {
    return this.events.onVersionPublished(id, target, opts);
  }

  public onAliasUpdated(id: string, target: events.IRuleTarget, opts?: EventRuleOptions): events.Rule {
    return this.events.onAliasUpdated(id, target, opts);
  }

  /**
   * Adds a function whose grants come from `options.access`: Node.js 24, arm64, ESM, traced, its own role
   * and log group, error and throttle alarms, and its cdk-nag acknowledgements (lib/guardrails.ts).
   */
  public addFunction(id: string, options: RegistryFunctionOptions): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.logRetention,
      // Logs are diagnostics, not registry data: they go with the function.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of our own, without the AWSLambdaBasicExecutionRole managed policy: it may write to its
    // own log group only.
    const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    grantAccess(role, options.access, { tables: this.tables, bucket: this.bucket, bus: this.bus, objectLock: this.settings.objectLock });
    const environment = { ...this.baseEnvironment, ...options.environment };
    const fn = new NodejsFunction(this, id, {
      entry: `${REPO_ROOT}${options.entry}`,
      handler: 'handler',
      description: options.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memorySize ?? 1024,
      timeout: options.timeout ?? Duration.seconds(15),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: this.settings.tracing === 'off' ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      environment,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      projectRoot: REPO_ROOT,
      bundling: functionBundling(this.settings.tracing, options.entry),
    });
    this.functions.set(id, fn);
    this.functionOptions.set(id, options);
    acknowledgeFunction(this, fn, options.access);
    this.createFunctionAlarms(id, fn);
    return fn;
  }

  private createTable(schema: TableSchema): dynamodb.Table {
    const retain = this.settings.removalPolicy === RemovalPolicy.RETAIN;
    const table = new dynamodb.Table(this, `${schema.id}Table`, {
      partitionKey: { name: schema.partitionKey.name, type: attributeType(schema.partitionKey.type) },
      ...(schema.sortKey ? { sortKey: { name: schema.sortKey.name, type: attributeType(schema.sortKey.type) } } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy: this.settings.removalPolicy,
      ...(schema.ttlAttribute ? { timeToLiveAttribute: schema.ttlAttribute } : {}),
      ...(schema.stream ? { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
    });
    for (const index of schema.globalIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey.type) },
        ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: attributeType(index.sortKey.type) } } : {}),
        projectionType: index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    return table;
  }

  private createBucket(corsAllowedOrigins: readonly string[]): s3.Bucket {
    const destroy = this.settings.removalPolicy === RemovalPolicy.DESTROY;
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: this.settings.removalPolicy,
      autoDeleteObjects: destroy,
    });
    const bucket = new s3.Bucket(this, 'BlobBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioning is the safety net under the GC: its deletes leave a delete marker, and the bytes stay
      // recoverable until the noncurrent version expires.
      versioned: true,
      objectLockEnabled: this.settings.objectLock,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'blob-bucket/',
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(Math.ceil(this.settings.pendingTtlHours / 24) + 1) },
        { noncurrentVersionExpiration: Duration.days(30), expiredObjectDeleteMarker: true },
      ],
      cors: [
        {
          // Browser uploads send exactly the headers the presigned URL was signed with.
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: [...corsAllowedOrigins],
          allowedHeaders: ['content-length', 'content-type', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm'],
          exposedHeaders: ['ETag', 'x-amz-checksum-sha256'],
          maxAge: 3600,
        },
      ],
      removalPolicy: this.settings.removalPolicy,
      autoDeleteObjects: destroy,
    });

    // Blobs are create-only (SPEC R-SEC): every request that creates an object must carry
    // `If-None-Match: *`, so no principal — not even an admin — can overwrite a blob. This is AWS's
    // documented pattern ("Enforce conditional writes on Amazon S3 buckets"): in IAM, CreateMultipartUpload
    // and UploadPart are also `s3:PutObject`, but they accept no conditional header, so the statement is
    // limited to requests that create the object (`s3:ObjectCreationOperation` = true: PutObject,
    // CompleteMultipartUpload, CopyObject). S3 accepts only `*` for If-None-Match, so "present" means `*`.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyObjectCreationWithoutIfNoneMatch',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: {
          Null: { 's3:if-none-match': 'true' },
          Bool: { 's3:ObjectCreationOperation': 'true' },
        },
      }),
    );
    return bucket;
  }

  /** Only the garbage collector deletes objects; nobody deletes object versions (lifecycle does, later). */
  private denyDeletesExceptGc(): void {
    const exempt = [this.gcFunction.role!.roleArn];
    // A DESTROY stage empties its bucket on deletion through CDK's auto-delete provider.
    const autoDelete = Stack.of(this).node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    const autoDeleteRole = autoDelete?.node.tryFindChild('Role');
    if (autoDeleteRole instanceof CfnResource) exempt.push(Fn.getAtt(autoDeleteRole.logicalId, 'Arn').toString());
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyDeleteExceptGarbageCollector',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': exempt } },
      }),
    );
    if (!autoDeleteRole) {
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyDeleteObjectVersion',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:DeleteObjectVersion'],
          resources: [this.bucket.arnForObjects('*')],
        }),
      );
    }
  }

  private createApi(auth: RegistryAuth, throttle: { rateLimit: number; burstLimit: number }, corsAllowedOrigins: readonly string[]): apigw.HttpApi {
    const authorizer =
      auth.mode === 'jwt' ? new HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, { jwtAudience: [...auth.audience] }) : new HttpIamAuthorizer();
    const api = new apigw.HttpApi(this, 'Api', {
      createDefaultStage: false,
      description: 'Arca asset registry',
      // API Gateway answers the browser's preflight itself, before any authorizer (the console, SPEC R-UI).
      corsPreflight: {
        allowOrigins: [...corsAllowedOrigins],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.PUT, apigw.CorsHttpMethod.PATCH, apigw.CorsHttpMethod.DELETE],
        allowHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
        exposeHeaders: ['etag', 'location', 'x-request-id'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: this.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const integrations = Object.fromEntries(
      ROUTE_GROUPS.map((group) => [group, new HttpLambdaIntegration(`${group}Integration`, this.apiFunctions[group])]),
    ) as Record<RouteGroup, HttpLambdaIntegration>;
    for (const [key, group] of gatewayRouteKeys()) {
      const [method, path] = key.split(' ') as [Method, string];
      api.addRoutes({
        path,
        methods: [method as apigw.HttpMethod],
        integration: integrations[group],
        // Only the routes the table declares open (health, the OpenAPI document: R-SEC) skip the authorizer.
        authorizer: OPEN_ROUTE_KEYS.has(key) ? new apigw.HttpNoneAuthorizer() : authorizer,
      });
    }
    return api;
  }

  private createApiAlarm(): void {
    new cloudwatch.Alarm(this, 'Api5xxAlarm', {
      alarmDescription: 'Arca API answered 5xx',
      metric: this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Errors and throttles of one function: any in five minutes is worth a look. */
  private createFunctionAlarms(id: string, fn: lambda.IFunction): void {
    new cloudwatch.Alarm(this, `${id}ErrorsAlarm`, {
      alarmDescription: `Arca ${id} function errors`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Alarm(this, `${id}ThrottlesAlarm`, {
      alarmDescription: `Arca ${id} function throttled`,
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** Open routes have no path parameter, so their gateway route key is their own method and path. */
const OPEN_ROUTE_KEYS = new Set(allRoutes().filter((r) => r.role === null).map((r) => `${r.method} ${r.path}`));

/** The entry of the function that serves `GET /v1/openapi.json` (its route group's). */
export const OPENAPI_ENTRY = `functions/api/${ROUTES.find((r) => r.id === 'openapi')?.group}.ts`;

/**
 * esbuild settings of every function: ESM for Node.js 24 with the AWS SDK bundled (tree-shaken, pinned to
 * our lockfile rather than the runtime's copy), minified, with source maps for readable stack traces.
 * The banner gives CommonJS dependencies that call `require` a working one inside the ESM bundle.
 * `define` decides at bundle time whether the Powertools tracer is in (functions/shared/observability.ts),
 * and, for `OPENAPI_ENTRY`, that the OpenAPI document is read from the `openapi.json` generated beside the
 * bundle (bin/openapi-json.ts) rather than generated at run time (functions/api/routes/openapi.ts).
 */
export function functionBundling(tracing: RegistryTracing, entry?: string): BundlingOptions {
  const define = {
    'process.env.ARCA_SDK_TRACER': JSON.stringify(String(tracing === 'sdk')),
    // The map is read when a stack trace is formatted (functions/shared/bundleStackTraces.ts), not at every cold
    // start as `--enable-source-maps` would.
    'process.env.ARCA_BUNDLE': '"true"',
  };
  if (entry !== OPENAPI_ENTRY) return { ...BASE_BUNDLING, define };
  const generate = (inputDir: string, outputDir: string) => [
    [process.execPath, '--import', 'tsx', `${inputDir}/bin/openapi-json.ts`, `${outputDir}/openapi.json`].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '),
  ];
  return {
    ...BASE_BUNDLING,
    define: { ...define, 'process.env.ARCA_OPENAPI_FILE': '"true"' },
    commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: generate },
  };
}

const BASE_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  bundleAwsSDK: true,
  banner: "import { createRequire as __arcaCreateRequire } from 'node:module'; const require = __arcaCreateRequire(import.meta.url);",
  // Lambda gives credentials in the environment: the SDK's default chain is replaced by `fromEnv` alone; and no
  // call streams events, so the event-stream codec is left out.
  esbuildArgs: { '--alias': [`@aws-sdk/credential-provider-node=./${CREDENTIALS_MODULE}`, `@smithy/core/event-streams=./${EVENT_STREAMS_MODULE}`] },
};

/**
 * `functionBundling(tracing)` of `entry` through esbuild's API, with a metafile (bench/bundle-breakdown.ts and
 * test/infra/bundling.test.ts read what each bundle holds); CDK's banner and source map left out.
 */
export function esbuildOptions(entry: string, tracing: RegistryTracing): BuildOptions & { write: false; metafile: true } {
  const options = functionBundling(tracing, entry);
  const aliases = (options.esbuildArgs?.['--alias'] as string[]).map((a) => a.split('=') as [string, string]);
  return {
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: options.target,
    mainFields: options.mainFields,
    minify: options.minify,
    define: options.define,
    alias: Object.fromEntries(aliases),
    logLevel: 'error',
  };
}

/** The bundling of the default `tracing: 'active'`. */
export const FUNCTION_BUNDLING: BundlingOptions = functionBundling('active');

function attributeType(type: 'S' | 'N'): dynamodb.AttributeType {
  return type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
}
