/**
 * The route table: every HTTP route of R-API, declared once. The CDK stack derives its API Gateway
 * routes and functions from it; the Lambda entry of each group and local mode match full paths with it.
 *
 * API Gateway allows a greedy `{proxy+}` only at the end of a path, and asset names contain `/`, so the
 * gateway sees one greedy route per (method, static prefix) and the function matches the full path here.
 */
export type Role = 'reader' | 'writer' | 'publisher' | 'admin';
export const ROLES: readonly Role[] = ['reader', 'writer', 'publisher', 'admin'];

/**
 * A function group: the routes one Lambda function serves, grouped by the access they need.
 * `read` can only read tables and presign GETs; `write` writes metadata and presigns PUTs.
 */
export type RouteGroup = 'read' | 'write';
export const ROUTE_GROUPS: readonly RouteGroup[] = ['read', 'write'];

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  /** Stable id; handlers are registered under it. */
  id: string;
  method: Method;
  /**
   * Path pattern. `{name}` is an asset name (several segments, ended by `/-/` or the end of the path);
   * `{path}` and `{spec}` take the rest of the path; any other `{x}` is one segment.
   */
  path: string;
  group: RouteGroup;
  /** The least role the caller needs; `null` means unauthenticated. */
  role: Role | null;
  /**
   * The asset-name parameter the role is checked against (grants are on name prefixes); `flow` checks
   * the name `flows/<flow>`, so run outputs are granted like the assets under `flows/`.
   */
  scope?: 'name' | 'spec' | 'flow';
}

export const ROUTES = [
  { id: 'health', method: 'GET', path: '/v1/health', group: 'read', role: null },
  // Open like health: it describes the API's shape and holds no registry data (R-API).
  { id: 'openapi', method: 'GET', path: '/v1/openapi.json', group: 'read', role: null },

  { id: 'listAssets', method: 'GET', path: '/v1/assets', group: 'read', role: 'reader' },
  { id: 'createAsset', method: 'POST', path: '/v1/assets', group: 'write', role: 'writer' },
  { id: 'getAsset', method: 'GET', path: '/v1/assets/{name}', group: 'read', role: 'reader', scope: 'name' },
  { id: 'updateAsset', method: 'PATCH', path: '/v1/assets/{name}', group: 'write', role: 'writer', scope: 'name' },
  { id: 'deleteAsset', method: 'DELETE', path: '/v1/assets/{name}', group: 'write', role: 'admin', scope: 'name' },

  { id: 'listVersions', method: 'GET', path: '/v1/assets/{name}/-/versions', group: 'read', role: 'reader', scope: 'name' },
  { id: 'createVersion', method: 'POST', path: '/v1/assets/{name}/-/versions', group: 'write', role: 'writer', scope: 'name' },
  { id: 'getVersion', method: 'GET', path: '/v1/assets/{name}/-/versions/{version}', group: 'read', role: 'reader', scope: 'name' },
  { id: 'updateVersion', method: 'PATCH', path: '/v1/assets/{name}/-/versions/{version}', group: 'write', role: 'writer', scope: 'name' },
  { id: 'deleteVersion', method: 'DELETE', path: '/v1/assets/{name}/-/versions/{version}', group: 'write', role: 'writer', scope: 'name' },
  { id: 'addFiles', method: 'POST', path: '/v1/assets/{name}/-/versions/{version}/files', group: 'write', role: 'writer', scope: 'name' },
  { id: 'withdrawFiles', method: 'DELETE', path: '/v1/assets/{name}/-/versions/{version}/files', group: 'write', role: 'writer', scope: 'name' },
  { id: 'commitVersion', method: 'POST', path: '/v1/assets/{name}/-/versions/{version}/commit', group: 'write', role: 'writer', scope: 'name' },
  { id: 'uploadParts', method: 'POST', path: '/v1/assets/{name}/-/versions/{version}/uploads/{uploadId}/parts', group: 'write', role: 'writer', scope: 'name' },
  { id: 'publishVersion', method: 'POST', path: '/v1/assets/{name}/-/versions/{version}/publish', group: 'write', role: 'publisher', scope: 'name' },
  { id: 'downloadFile', method: 'GET', path: '/v1/assets/{name}/-/versions/{version}/files/{path}', group: 'read', role: 'reader', scope: 'name' },

  { id: 'lineage', method: 'GET', path: '/v1/assets/{name}/-/lineage', group: 'read', role: 'reader', scope: 'name' },

  { id: 'listAliases', method: 'GET', path: '/v1/assets/{name}/-/aliases', group: 'read', role: 'reader', scope: 'name' },
  { id: 'setAlias', method: 'PUT', path: '/v1/assets/{name}/-/aliases/{alias}', group: 'write', role: 'writer', scope: 'name' },
  { id: 'deleteAlias', method: 'DELETE', path: '/v1/assets/{name}/-/aliases/{alias}', group: 'write', role: 'writer', scope: 'name' },
  { id: 'aliasHistory', method: 'GET', path: '/v1/assets/{name}/-/aliases/{alias}/history', group: 'read', role: 'reader', scope: 'name' },

  { id: 'resolve', method: 'GET', path: '/v1/resolve/{spec}', group: 'read', role: 'reader', scope: 'spec' },

  { id: 'putOutput', method: 'PUT', path: '/v1/flows/{flow}/runs/{run}/outputs/{output}', group: 'write', role: 'writer', scope: 'flow' },
  { id: 'getOutput', method: 'GET', path: '/v1/flows/{flow}/runs/{run}/outputs/{output}', group: 'read', role: 'reader', scope: 'flow' },
  { id: 'listOutputs', method: 'GET', path: '/v1/flows/{flow}/runs/{run}/outputs', group: 'read', role: 'reader', scope: 'flow' },
  { id: 'commitOutput', method: 'POST', path: '/v1/flows/{flow}/runs/{run}/outputs/{output}/commit', group: 'write', role: 'writer', scope: 'flow' },
  { id: 'outputParts', method: 'POST', path: '/v1/flows/{flow}/runs/{run}/outputs/{output}/uploads/{uploadId}/parts', group: 'write', role: 'writer', scope: 'flow' },
  { id: 'promoteOutput', method: 'POST', path: '/v1/flows/{flow}/runs/{run}/outputs/{output}/promote', group: 'write', role: 'writer', scope: 'flow' },
  // Reader somewhere; the handler then needs reader on `?asset=`, or admin on every name without it.
  { id: 'listAudit', method: 'GET', path: '/v1/audit', group: 'read', role: 'reader' },

  { id: 'listHooks', method: 'GET', path: '/v1/hooks', group: 'read', role: 'admin' },
  { id: 'createHook', method: 'POST', path: '/v1/hooks', group: 'write', role: 'admin' },
  { id: 'deleteHook', method: 'DELETE', path: '/v1/hooks/{id}', group: 'write', role: 'admin' },
  { id: 'listDeliveries', method: 'GET', path: '/v1/hooks/{id}/deliveries', group: 'read', role: 'admin' },

  // Admin on every name (the empty prefix), checked by the handler: a prefix admin could otherwise grant itself more.
  { id: 'listGrants', method: 'GET', path: '/v1/grants', group: 'read', role: 'admin' },
  { id: 'putGrant', method: 'PUT', path: '/v1/grants', group: 'write', role: 'admin' },
  { id: 'deleteGrant', method: 'DELETE', path: '/v1/grants', group: 'write', role: 'admin' },
] as const satisfies readonly Route[];

export type RouteId = (typeof ROUTES)[number]['id'];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  /** The parameter whose percent-encoding is malformed (`%ZZ`): the path names this route but no value (a 400). */
  undecodable?: string;
}

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split(/(\{[a-zA-Z]+\})/)
    .map((part) => {
      const param = /^\{([a-zA-Z]+)\}$/.exec(part)?.[1];
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param);
      // Segments other than `-`: `/-/` ends the name, so `GET /v1/assets/a/-/versions` is never read as an asset named `a/-/versions`.
      if (param === 'name') return '([^/]+(?:/(?!-(?:/|$))[^/]+)*)';
      if (param === 'path' || param === 'spec') return '(.+)';
      return '([^/]+)';
    })
    .join('');
  return { route, regex: new RegExp(`^${source}$`), names };
}

const COMPILED: readonly CompiledRoute[] = (ROUTES as readonly Route[]).map(compile);

export function allRoutes(): Route[] {
  return COMPILED.map((c) => c.route);
}

/** Matches a raw (still percent-encoded) path; `undefined` when no route has that method and path. */
export function matchRoute(method: string, rawPath: string): RouteMatch | undefined {
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
  for (const { route, regex, names } of COMPILED) {
    if (route.method !== method) continue;
    const m = regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    for (const [i, n] of names.entries()) {
      try {
        params[n] = decodeURIComponent(m[i + 1] ?? '');
      } catch {
        return { route, params: {}, undecodable: n };
      }
    }
    return { route, params };
  }
  return undefined;
}

/**
 * API Gateway route keys (`METHOD /path`) and the group serving each: a route's path is cut at its
 * first parameter and ended with a greedy `{proxy+}`. Throws when two groups would need one gateway route.
 */
export function gatewayRouteKeys(): Map<string, RouteGroup> {
  const keys = new Map<string, RouteGroup>();
  for (const route of allRoutes()) {
    const cut = route.path.indexOf('{');
    const gatewayPath = cut < 0 ? route.path : `${route.path.slice(0, cut)}{proxy+}`;
    const key = `${route.method} ${gatewayPath}`;
    const seen = keys.get(key);
    if (seen && seen !== route.group) {
      throw new Error(`Gateway route ${key} is claimed by groups ${seen} and ${route.group}: give them one group`);
    }
    keys.set(key, route.group);
  }
  return keys;
}
