/**
 * Authentication and authorization (R-SEC). Who: local mode's bearer token (admin), the IAM principal of a
 * SigV4 call, or a JWT's subject and groups. What they may do: roles granted on asset-name prefixes
 * (ARCA_GRANTS), reader < writer < publisher < admin.
 */
import { timingSafeEqual } from 'node:crypto';
import * as z from '../../contract/zod.ts';
import { ROLES, type Role } from '../../contract/routes.ts';
import { env, type Env } from './env.ts';
import { ArcaError } from './errors.ts';

export interface Principal {
  id: string;
  /** The highest role the principal holds on an asset name (undefined: none). */
  roleOn(name: string): Role | undefined;
  /** Whether any grant gives at least `role` (for routes that span assets, e.g. listing). */
  hasAnywhere(role: Role): boolean;
}

const rank = (role: Role): number => ROLES.indexOf(role);
export const atLeast = (held: Role | undefined, needed: Role): boolean => held !== undefined && rank(held) >= rank(needed);

const RequestAuth = z.object({
  authorizer: z.optional(
    z.object({
      iam: z.optional(z.object({ userArn: z.optional(z.string()) })),
      jwt: z.optional(z.object({ claims: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

const unauthorized = (message: string) => new ArcaError('Unauthorized', message);

function groupsOf(claims: Record<string, unknown>): string[] {
  const raw = claims['cognito:groups'] ?? claims.groups;
  if (Array.isArray(raw)) return raw.map(String);
  // API Gateway flattens array claims to "[a b]".
  if (typeof raw === 'string') return raw.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
  return [];
}

function fromGrants(id: string, identities: string[], grants: Env['grants']): Principal {
  const mine = grants.filter((g) => identities.includes(g.principal));
  return {
    id,
    roleOn: (name) =>
      mine.filter((g) => name.startsWith(g.prefix)).reduce<Role | undefined>((best, g) => (atLeast(best, g.role) ? best : g.role), undefined),
    hasAnywhere: (role) => mine.some((g) => atLeast(g.role, role)),
  };
}

const admin = (id: string): Principal => ({ id, roleOn: () => 'admin', hasAnywhere: () => true });

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `grants`: the grants in force (the caller merges the table's in); token mode ignores them. */
export function authenticate(
  headers: Record<string, string | undefined>,
  requestContext: unknown,
  config: Env = env,
  grants: Env['grants'] = config.grants,
): Principal {
  switch (config.authMode) {
    case 'token': {
      const m = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
      if (!m?.[1]) throw unauthorized('send Authorization: Bearer <token> (local mode prints it and keeps it in .arca/token)');
      if (!tokenMatches(m[1], config.localToken ?? '')) throw unauthorized('the bearer token is not this registry\'s');
      return admin('local-admin');
    }
    case 'iam': {
      const arn = RequestAuth.safeParse(requestContext).data?.authorizer?.iam?.userArn;
      if (!arn) throw unauthorized('the request is not signed with AWS credentials (SigV4)');
      return fromGrants(arn, [arn], grants);
    }
    case 'jwt': {
      const claims = RequestAuth.safeParse(requestContext).data?.authorizer?.jwt?.claims;
      const sub = typeof claims?.sub === 'string' ? claims.sub : undefined;
      if (!claims || !sub) throw unauthorized('the request carries no valid JWT');
      return fromGrants(sub, [sub, ...groupsOf(claims).map((g) => `group:${g}`)], grants);
    }
  }
}

/** Throws 403 unless the principal holds `role` on `name` (or, without a name, anywhere). */
export function authorize(principal: Principal, role: Role, name?: string): void {
  const ok = name === undefined ? principal.hasAnywhere(role) : atLeast(principal.roleOn(name), role);
  if (!ok) {
    throw new ArcaError('Forbidden', name === undefined ? `${principal.id} holds no ${role} role` : `${principal.id} needs the ${role} role on ${name}`, {
      role,
      ...(name !== undefined ? { name } : {}),
    });
  }
}

/**
 * Throws 403 unless the principal is an admin of every asset name (a grant on the empty prefix): routes
 * whose effect spans assets (hooks see any asset's events, grants give any name) need more than a prefix's admin.
 */
export function authorizeRegistryAdmin(principal: Principal): string {
  authorize(principal, 'admin', '');
  return principal.id;
}
