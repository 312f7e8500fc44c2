/**
 * Every cdk-nag acknowledgement of the registry, each on the narrowest construct and with its reason
 * (SPEC R-SEC "Checks"). `bin/arca.ts` runs the AwsSolutions pack; synth fails on any finding not listed here.
 *
 * Acknowledgements are made per function from the access it was declared with (lib/access.ts), so a
 * function added later through `AssetRegistry.addFunction` is covered by the same reasoning — and only
 * for the tables and prefixes it was actually granted.
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { TABLES, type TableName, type TableSchema } from '../contract/tables.ts';
import { BLOB_PREFIX, objectActions, type FunctionAccess } from './access.ts';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { AssetRegistry } from './registry.ts';
import type { RegistryConsole } from './console.ts';

const NAG = 'AwsSolutions::AwsSolutions';

function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${NAG}-${rule}`, reason });
}

/** `<LogicalId.Arn>`: how cdk-nag names an unresolved ARN in a finding. */
function arnRef(element: CfnElement): string {
  const stack = Stack.of(element);
  return `<${String(stack.resolve(stack.getLogicalId(element)))}.Arn>`;
}

/**
 * The findings of one function's role, from the access it was declared with. `AssetRegistry.addFunction`
 * calls it for every function, so one added later — by the events construct or by a team embedding the
 * registry — is covered too, and only for the tables and prefix it was granted.
 */
export function acknowledgeFunction(registry: AssetRegistry, fn: IFunction, access: FunctionAccess): void {
  // On the role, not its DefaultPolicy: a role whose statements outgrow one inline policy gets
  // `OverflowPolicy<N>` managed policies at synth time, after this runs, carrying the same grants.
  const policy = fn.role;
  if (!policy?.node.tryFindChild('DefaultPolicy')) return;
  acknowledge(
    policy,
    'IAM5[Resource::*]',
    'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
  );
  for (const name of Object.keys(access.tables) as TableName[]) {
    const schema: TableSchema = TABLES[name];
    if (!schema.globalIndexes?.length) continue;
    acknowledge(
      policy,
      `IAM5[Resource::${arnRef(registry.tables[name].node.defaultChild as CfnElement)}/index/*]`,
      `The ${name} table's indexes (contract/tables.ts) are queried; the grant is limited to that one table's indexes.`,
    );
  }
  if (objectActions(access, registry.settings.objectLock).length > 0) {
    acknowledge(
      policy,
      `IAM5[Resource::${arnRef(registry.bucket.node.defaultChild as CfnElement)}/${BLOB_PREFIX}*]`,
      'Blob keys are content hashes and upload nonces (blobs/sha256/<hex>/<nonce>) unknown at deploy time; the grant is limited to the blob prefix and to the actions declared for this function in lib/access.ts.',
    );
  }
}

/** The findings of the registry's other resources. */
export function acknowledgeFindings(registry: AssetRegistry): void {
  acknowledge(
    registry.api.node.findChild('GET--v1--health'),
    'APIG4',
    'GET /v1/health is unauthenticated by design (SPEC R-SEC): a liveness probe that reveals nothing.',
  );
  acknowledge(
    registry.api.node.findChild('GET--v1--openapi.json'),
    'APIG4',
    'GET /v1/openapi.json is unauthenticated by design (R-API): the generated description of the routes, no registry data.',
  );

  // Events (lib/events.ts): the two queues that ARE dead-letter queues have none of their own.
  for (const dlq of [registry.events.deadLetterQueue, registry.events.streamFailureQueue]) {
    acknowledge(
      dlq,
      'SQS3',
      'A dead-letter queue itself: what lands here has exhausted its retries, and an alarm on its depth (lib/events.ts) tells the operator.',
    );
  }

  // CDK's singleton that writes the bucket's notification configuration (S3 ObjectCreated → finalize).
  const notifications = Stack.of(registry).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  const notificationsRole = notifications?.node.tryFindChild('Role');
  if (notificationsRole) {
    acknowledge(
      notificationsRole,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's own bucket-notifications custom resource; it runs only at deploy time and its role is managed by aws-cdk-lib.",
    );
  }
}

/** The findings of the console (lib/console.ts): its distribution, and CDK's singleton that copies its files. */
export function acknowledgeConsole(console: RegistryConsole): void {
  const distribution = console.distribution.node.defaultChild!;
  acknowledge(
    distribution,
    'CFR1',
    'The console is for the registry\'s users wherever they are; who may use it is decided by sign-in at the JWT issuer, not by country.',
  );
  acknowledge(
    distribution,
    'CFR2',
    'The distribution serves static files and forwards /v1/* to the HTTP API, which is throttled per stage and authenticates every call but health and the OpenAPI document; a WAF web ACL can be attached by the operator (it is billed per ACL and rule).',
  );
  acknowledge(
    distribution,
    'CFR4',
    'No custom domain: the distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the viewer security policy; with a domain and an ACM certificate, TLSv1.2_2021 applies.',
  );
  const deployment = Stack.of(console).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!deployment) return;
  acknowledge(
    deployment,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's own BucketDeployment provider (copies the console's files at deploy time); its role is managed by aws-cdk-lib.",
  );
  acknowledge(deployment, 'L1', "CDK's own BucketDeployment provider: aws-cdk-lib chooses and updates its runtime.");
  for (const finding of [
    'Action::s3:GetObject*',
    'Action::s3:GetBucket*',
    'Action::s3:List*',
    'Action::s3:DeleteObject*',
    'Action::s3:Abort*',
    'Resource::*',
    `Resource::${arnRef(console.bucket.node.defaultChild as CfnElement)}/*`,
    'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
  ]) {
    acknowledge(
      deployment,
      `IAM5[${finding}]`,
      "CDK's own BucketDeployment provider: it reads the CDK asset bucket and replaces the console bucket's files (prune), with the grants aws-cdk-lib gives it; it runs only at deploy time.",
    );
  }
}
