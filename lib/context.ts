/**
 * Reads `AssetRegistryProps` from CDK context (`cdk deploy -c maxVersionsPerAsset=50`, or `context` in
 * cdk.json). Values given on the command line arrive as strings; each is parsed and range-checked by
 * `resolveSettings` with a message that names the key to fix.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import type { AssetRegistryProps, RegistryAuth } from './registry.ts';
import type { ArcaStackProps } from './stack.ts';

function number(node: Node, key: string): number | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined) return undefined;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (Number.isNaN(value)) throw new Error(`context ${key} must be a number, got ${JSON.stringify(raw)}: pass -c ${key}=<number>`);
  return value;
}

function list(node: Node, key: string): string[] | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) return raw.map(String);
  return String(raw).split(',').map((s) => s.trim()).filter(Boolean);
}

/** `-c grants='[{"principal":"…","prefix":"team/","role":"writer"}]'` (a JSON string) or an array in cdk.json. */
function grants(node: Node): unknown[] | undefined {
  const raw: unknown = node.tryGetContext('grants');
  if (raw === undefined || Array.isArray(raw)) return raw;
  try {
    const parsed: unknown = JSON.parse(String(raw));
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // Reported below with the expected shape.
  }
  throw new Error(`context grants must be a JSON array of { principal, prefix, role }, got ${JSON.stringify(raw)}`);
}

function boolean(node: Node, key: string): boolean | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined) return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`context ${key} must be true or false, got ${JSON.stringify(raw)}`);
}

function auth(node: Node): RegistryAuth | undefined {
  const mode: unknown = node.tryGetContext('auth');
  if (mode === undefined || mode === 'iam') return mode === undefined ? undefined : { mode: 'iam' };
  if (mode !== 'jwt') throw new Error(`context auth must be iam or jwt, got ${JSON.stringify(mode)}`);
  const issuer: unknown = node.tryGetContext('jwtIssuer');
  const audience = list(node, 'jwtAudience') ?? [];
  if (typeof issuer !== 'string') throw new Error('context auth=jwt needs -c jwtIssuer=https://... and -c jwtAudience=<client id>[,<client id>]');
  return { mode: 'jwt', issuer, audience };
}

function removalPolicy(node: Node): RemovalPolicy | undefined {
  const raw: unknown = node.tryGetContext('removalPolicy');
  if (raw === undefined) return undefined;
  if (raw === 'retain') return RemovalPolicy.RETAIN;
  if (raw === 'destroy') return RemovalPolicy.DESTROY;
  throw new Error(`context removalPolicy must be retain or destroy, got ${JSON.stringify(raw)}`);
}

export function registryPropsFromContext(node: Node): AssetRegistryProps {
  const props: Record<string, unknown> = {
    maxVersionsPerAsset: number(node, 'maxVersionsPerAsset'),
    maxFormatsPerVersion: number(node, 'maxFormatsPerVersion'),
    multipartThreshold: number(node, 'multipartThreshold'),
    presignGetTtlSeconds: number(node, 'presignGetTtlSeconds'),
    presignPutTtlSeconds: number(node, 'presignPutTtlSeconds'),
    pendingTtlHours: number(node, 'pendingTtlHours'),
    gcGracePeriodHours: number(node, 'gcGracePeriodHours'),
    auth: auth(node),
    initialAdmins: list(node, 'initialAdmins'),
    grants: grants(node),
    grantsCacheSeconds: number(node, 'grantsCacheSeconds'),
    objectLock: boolean(node, 'objectLock'),
    removalPolicy: removalPolicy(node),
    tracing: node.tryGetContext('tracing') as unknown,
  };
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as AssetRegistryProps;
}

/**
 * The console's props: `-c console=false` leaves it out; `-c consoleClientId=…`, `-c consoleScopes=openid,email`
 * and `-c consoleSignInOrigins=https://<domain>.auth.<region>.amazoncognito.com` shape its sign-in.
 */
export function consolePropsFromContext(node: Node): ArcaStackProps['console'] {
  if (boolean(node, 'console') === false) return false;
  const clientId: unknown = node.tryGetContext('consoleClientId');
  const props = { clientId: typeof clientId === 'string' ? clientId : undefined, scopes: list(node, 'consoleScopes'), signInOrigins: list(node, 'consoleSignInOrigins') };
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
}
