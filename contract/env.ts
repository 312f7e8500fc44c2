/**
 * Environment variable names, declared once: the CDK stack and local mode write them,
 * `functions/shared/env.ts` reads them once at module load.
 */
export const ENV = {
  assetsTable: 'ARCA_ASSETS_TABLE',
  versionsTable: 'ARCA_VERSIONS_TABLE',
  aliasesTable: 'ARCA_ALIASES_TABLE',
  blobsTable: 'ARCA_BLOBS_TABLE',
  idempotencyTable: 'ARCA_IDEMPOTENCY_TABLE',
  hooksTable: 'ARCA_HOOKS_TABLE',
  deliveriesTable: 'ARCA_DELIVERIES_TABLE',
  outputsTable: 'ARCA_OUTPUTS_TABLE',
  lineageTable: 'ARCA_LINEAGE_TABLE',
  grantsTable: 'ARCA_GRANTS_TABLE',
  auditTable: 'ARCA_AUDIT_TABLE',
  /** The EventBridge bus the stream consumer publishes to. */
  eventBus: 'ARCA_EVENT_BUS',
  /** The SQS queue of webhook deliveries (AWS). */
  deliveryQueueUrl: 'ARCA_DELIVERY_QUEUE_URL',
  /** The KMS key that encrypts webhook secrets (AWS). */
  hookKeyId: 'ARCA_HOOK_KEY_ID',
  /** Local mode only: the AES-256 key (64 hex characters) that encrypts webhook secrets instead of KMS. */
  hookSecretKey: 'ARCA_HOOK_SECRET_KEY',
  /** Local mode only: `true` lets webhooks use http and loopback addresses. */
  hooksAllowInsecure: 'ARCA_HOOKS_ALLOW_INSECURE',
  /** Delay before a failed webhook delivery's first retry (seconds, fractions allowed); later ones double. */
  hookRetryBaseSeconds: 'ARCA_HOOK_RETRY_BASE_SECONDS',
  bucket: 'ARCA_BUCKET',
  /** Local mode only: where the service's S3 client talks (the S3 stand-in). */
  s3Endpoint: 'ARCA_S3_ENDPOINT',
  /** Local mode only: the endpoint put into presigned URLs (the verifying front of the stand-in). */
  s3PublicEndpoint: 'ARCA_S3_PUBLIC_ENDPOINT',
  /** Local mode only: DynamoDB Local's endpoint. */
  dynamoEndpoint: 'ARCA_DYNAMODB_ENDPOINT',
  maxVersionsPerAsset: 'ARCA_MAX_VERSIONS_PER_ASSET',
  maxFormatsPerVersion: 'ARCA_MAX_FORMATS_PER_VERSION',
  multipartThreshold: 'ARCA_MULTIPART_THRESHOLD',
  presignGetTtl: 'ARCA_PRESIGN_GET_TTL_SECONDS',
  presignPutTtl: 'ARCA_PRESIGN_PUT_TTL_SECONDS',
  pendingTtlHours: 'ARCA_PENDING_TTL_HOURS',
  /** Hours an unreferenced blob survives before the garbage collector deletes it (the GC function only). */
  gcGraceHours: 'ARCA_GC_GRACE_HOURS',
  objectLock: 'ARCA_OBJECT_LOCK',
  /** `s3-checksum` (AWS: trust S3's signed checksums) or `hash` (local: hash what arrived). */
  verifyMode: 'ARCA_VERIFY_MODE',
  /**
   * Largest file commit hashes itself (bytes); a larger one whose check needs a whole-object hash is hashed
   * by the ObjectCreated job, and commit answers 202 meanwhile (an API request must end within its timeout).
   */
  inlineVerifyMaxBytes: 'ARCA_INLINE_VERIFY_MAX_BYTES',
  /** `iam`, `jwt` or `token` (local mode). */
  authMode: 'ARCA_AUTH_MODE',
  /** JSON array of deploy-time grants: [{ principal, prefix, role }], merged with the grants table's. */
  grants: 'ARCA_GRANTS',
  /** Seconds a function keeps the grants table's content before reading it again (0: every request). */
  grantsCacheSeconds: 'ARCA_GRANTS_CACHE_SECONDS',
  /** Local mode only: the admin bearer token. */
  localToken: 'ARCA_LOCAL_TOKEN',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

export const DEFAULTS = {
  maxVersionsPerAsset: 30,
  maxFormatsPerVersion: 3,
  multipartThreshold: 64 * 1024 * 1024,
  inlineVerifyMaxBytes: 256 * 1024 * 1024,
  presignGetTtlSeconds: 900,
  presignPutTtlSeconds: 3600,
  pendingTtlHours: 24,
  grantsCacheSeconds: 30,
} as const;
