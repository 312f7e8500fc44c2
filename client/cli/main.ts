/**
 * The `arca` CLI (R-CLIENT): a thin layer over the SDK. Modules beyond commander are imported inside the
 * actions, so `arca --version` and `arca --help` start without loading the SDK or the AWS signer.
 */
import { readFile } from 'node:fs/promises';
import { Argument, Command, Option } from 'commander';
import type { HookRecord } from '../../contract/events.ts';
import type { GrantRecord } from '../../contract/schemas.ts';
import type { ArcaClient } from '../client.ts';
import type { ConfigSettings } from '../config.ts';
import type { ArcaApiError } from '../errors.ts';
import { formatBytes, plural, printAudit, printTable, progressBars, type Bar, type MakeBar } from './output.ts';

export const VERSION = '0.1.0';

interface GlobalOptions {
  url?: string;
  token?: string;
  region?: string;
  cacheDir?: string;
  iam?: boolean;
  concurrency?: string;
  json?: boolean;
}

function settings(g: GlobalOptions): ConfigSettings {
  return { url: g.url, token: g.token, region: g.region, cacheDir: g.cacheDir, auth: g.iam ? 'sigv4' : undefined };
}

async function clientFor(cmd: Command): Promise<ArcaClient> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const { ArcaClient } = await import('../client.ts');
  const concurrency = g.concurrency === undefined ? undefined : positiveInt(g.concurrency, '--concurrency');
  const threshold = process.env.ARCA_MULTIPART_THRESHOLD ? positiveInt(process.env.ARCA_MULTIPART_THRESHOLD, 'ARCA_MULTIPART_THRESHOLD') : undefined;
  return ArcaClient.fromConfig(settings(g), { concurrency, multipartThreshold: threshold });
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, not "${text}"`);
  return n;
}

const isJson = (cmd: Command): boolean => cmd.optsWithGlobals<GlobalOptions>().json === true;
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
/** A progress bar maker on a terminal (not with --json), else undefined. */
const barsFor = async (cmd: Command): Promise<MakeBar | undefined> => (!isJson(cmd) && process.stderr.isTTY === true ? progressBars() : undefined);

/** Wraps an action: builds the client, prints JSON or text, and turns errors into a message and exit 1. */
function run<A extends unknown[]>(fn: (client: ArcaClient, cmd: Command, ...args: A) => Promise<unknown>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const client = await clientFor(cmd);
    try {
      const result = await fn(client, cmd, ...(args.slice(0, -1) as A));
      if (isJson(cmd) && result !== undefined) print(result);
    } catch (err) {
      const { explainNoMatch } = await import('./explain.ts');
      throw await explainNoMatch(client, err);
    } finally {
      client.close();
    }
  };
}

async function readJsonFile(path: string, what: string): Promise<Record<string, unknown>> {
  const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} ${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** `name:version` or `name version`. */
function nameAndVersion(name: string, version?: string): [string, string] {
  if (version) return [name, version];
  const i = name.indexOf(':');
  if (i < 0) throw new Error(`give a version: "${name} 1.2.0" or "${name}:1.2.0"`);
  return [name.slice(0, i), name.slice(i + 1)];
}

export function buildProgram(): Command {
  const program = new Command('arca')
    .description('Arca: a registry for immutable, versioned ML assets')
    .option('--url <url>', 'registry API URL (else ARCA_URL, else the login file)')
    .option('--token <token>', 'bearer token for local mode (else ARCA_TOKEN, else the login file)')
    .option('--iam', 'sign requests with SigV4 from the AWS credential chain (deployed stacks)')
    .option('--region <region>', 'AWS region for SigV4 (default: from the URL or AWS_REGION)')
    .option('--cache-dir <dir>', 'download cache and upload resume state (else ARCA_CACHE_DIR)')
    .option('--concurrency <n>', 'parts or files in flight at once (default 8)')
    .option('--json', 'print machine-readable JSON')
    // `arca --version` is answered in main(): commander's version option would also swallow `push --version X`.
    .addHelpText('after', '\n`arca -V` or `arca --version` prints the version.')
    .showHelpAfterError();

  program
    .command('login')
    .description('check the credentials against a registry and save them to the config file')
    .option('--token-file <file>', 'read the token from a file (local mode: .arca/token)')
    .addHelpText('after', '\nGive the registry with the global --url, a token with --token or --token-file, or --iam for SigV4.')
    .action(async (opts: { tokenFile?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (!g.url) throw new Error('login needs --url: arca login --url URL [--token-file .arca/token | --iam]');
      const { configFilePath, registryUrl, writeConfigFile } = await import('../config.ts');
      const url = registryUrl(g.url);
      const token = opts.tokenFile ? (await readFile(opts.tokenFile, 'utf8')).trim() : g.token;
      const { ArcaClient } = await import('../client.ts');
      const auth = token && !g.iam ? 'token' : 'sigv4';
      const client = new ArcaClient({ url: url, token, auth, region: g.region });
      await client.listAssets({ limit: 1 });
      const file = configFilePath();
      await writeConfigFile(file, { url: url, auth, ...(token && auth === 'token' ? { token } : {}), ...(g.region ? { region: g.region } : {}), ...(g.cacheDir ? { cacheDir: g.cacheDir } : {}) });
      if (isJson(cmd)) print({ url: url, auth, configFile: file });
      else console.log(`Logged in to ${url} (${auth === 'token' ? 'bearer token' : 'AWS SigV4'}); saved to ${file}`);
    });

  program
    .command('ls [prefix]')
    .description('list assets, optionally under a name prefix')
    .addOption(new Option('--type <type>', 'only this type').choices(['model', 'dataset', 'other']))
    .option('--tag <tag>', 'only assets with this tag')
    .option('-q, --query <text>', 'search names and descriptions')
    .addOption(new Option('--sort <key>').choices(['name', 'updated']).default('name'))
    .addOption(new Option('--order <order>').choices(['asc', 'desc']))
    .option('--limit <n>', 'page size (1–100)', '50')
    .option('--cursor <cursor>', 'continue a listing')
    .action(
      run(async (client, cmd, prefix?: string) => {
        const o = cmd.opts<{ type?: 'model'; tag?: string; query?: string; sort: 'name'; order?: 'asc'; limit: string; cursor?: string }>();
        const page = await client.listAssets({ prefix, type: o.type, tag: o.tag, q: o.query, sort: o.sort, order: o.order, limit: positiveInt(o.limit, '--limit'), cursor: o.cursor });
        if (isJson(cmd)) return page;
        printTable(['NAME', 'TYPE', 'LATEST', 'VERSIONS', 'UPDATED'], page.items.map((a) => [a.name, a.type, a.latest ?? '-', String(a.liveVersions), a.updatedAt]));
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
        return undefined;
      }),
    );

  program
    .command('info <name>')
    .description('an asset with its versions and aliases, or one version (NAME:SELECTOR) with its files')
    .action(
      run(async (client, cmd, name: string) => {
        if (name.includes(':')) {
          // An exact version is read as is (pending and deleted ones too); anything else is resolved first.
          const { parseSpec } = await import('../../functions/domain/spec.ts');
          const spec = parseSpec(name);
          const exact = spec.selector.kind === 'exact' ? spec.selector.version : (await client.resolve(name)).version;
          const v = await client.getVersion(spec.name, exact);
          if (isJson(cmd)) return v;
          console.log(`${v.asset}:${v.version}  ${v.status}  ${formatBytes(v.size)}  formats ${v.formats.join(', ')}${v.aliases.length ? `  aliases ${v.aliases.join(', ')}` : ''}`);
          console.log(`created ${v.createdAt} by ${v.createdBy}${v.publishedAt ? `, published ${v.publishedAt}` : ''}`);
          if (v.description) console.log(`\n${v.description}\n`);
          printTable(['PATH', 'SIZE', 'FORMAT', 'SHA256'], v.files.map((f) => [f.path, formatBytes(f.size), f.format, f.sha256]));
          return undefined;
        }
        const [asset, versions] = await Promise.all([client.getAsset(name), client.listVersions(name)]);
        if (isJson(cmd)) return { ...asset, versions: versions.items };
        console.log(`${asset.name}  ${asset.type}  ${plural(asset.liveVersions, 'live version')}  latest ${asset.latest ?? '-'}  cap policy ${asset.capPolicy}`);
        if (asset.description) console.log(`\n${asset.description}\n`);
        printTable(['VERSION', 'STATUS', 'SIZE', 'FORMATS', 'ALIASES', 'CREATED', 'BY'], versions.items.map((v) => [v.version, v.status, formatBytes(v.size), v.formats.join(','), v.aliases.join(','), v.createdAt, v.createdBy]));
        return undefined;
      }),
    );

  program
    .command('push <name> <paths...>')
    .description('upload files and directories as a new version (only what the store lacks; resumable)')
    .option('--version <version>', 'explicit version (default: bump from the highest)')
    .addOption(new Option('--bump <part>', 'which part to bump').choices(['major', 'minor', 'patch']))
    .option('--format <format>', 'format label for every file (default: from the extension)')
    .option('--meta <file.json>', 'metadata: description, tags, hyperparameters, config, metrics, records, params')
    .option('--params <file.json>', 'the parameters that generated this version')
    .option('--record <spec...>', 'inputs this version was made from (resolved to exact versions)')
    .option('-m, --description <text>', 'description (Markdown)')
    .option('--tag <tag...>', 'tags')
    .addOption(new Option('--type <type>', 'asset type, if push creates the asset').choices(['model', 'dataset', 'other']).default('model'))
    .option('--publish', 'publish the version once it is ready')
    .option('--alias <alias>', 'point this alias at the new version')
    .option('--resume', 'resume an interrupted upload of the same bytes (the default)')
    .option('--no-resume', 'start afresh instead of resuming an interrupted upload of the same bytes')
    .action(
      run(async (client, cmd, name: string, paths: string[]) => {
        const o = cmd.opts<{
          version?: string; bump?: 'minor'; format?: string; meta?: string; params?: string; record?: string[]; description?: string;
          tag?: string[]; type: 'model'; publish?: boolean; alias?: string; resume?: boolean;
        }>();
        const meta = o.meta ? await readJsonFile(o.meta, '--meta') : {};
        const params = o.params ? await readJsonFile(o.params, '--params') : (meta.params as Record<string, unknown> | undefined);
        let progress: Bar | undefined;
        const bar = await barsFor(cmd);
        const result = await client.push(name, paths, {
          ...meta,
          version: o.version,
          bump: o.bump,
          format: o.format,
          params,
          records: o.record ?? (meta.records as string[] | undefined),
          description: o.description ?? (meta.description as string | undefined),
          tags: o.tag ?? (meta.tags as string[] | undefined),
          type: o.type,
          publish: o.publish,
          alias: o.alias,
          resume: o.resume,
          onProgress: bar
            ? (p) => {
                if (p.phase === 'commit') return progress?.stop();
                progress = bar(progress, p.phase === 'hash' ? 'hashing' : 'uploading', p.total);
                progress.update(p.done);
              }
            : undefined,
        });
        progress?.stop();
        const v = result.version;
        if (isJson(cmd)) return { ...result, bytesUploaded: client.stats.bytesUploaded };
        console.log(
          `${v.asset}:${v.version} ${v.status} — ${plural(v.files.length, 'file')}, ${formatBytes(v.size)}; uploaded ${formatBytes(result.uploaded)}, already stored ${formatBytes(result.skipped)}${result.resumed ? ' (resumed)' : ''}`,
        );
        return undefined;
      }),
    );

  program
    .command('pull <spec>')
    .description('download a version (NAME[:SELECTOR][/PATH]) into the cache and, with -o, into a directory')
    .option('-o, --out <dir>', 'write the files under this directory')
    .option('--offline', 'serve an exact NAME:VERSION from the cache alone')
    .option('--link', 'hard-link files to the read-only cache instead of copying them (a write through a link, which root can make, corrupts the cache)')
    .addOption(new Option('--stage <stage>', 'only published versions').choices(['published']))
    .action(
      run(async (client, cmd, spec: string) => {
        const o = cmd.opts<{ out?: string; offline?: boolean; link?: boolean; stage?: 'published' }>();
        let progress: Bar | undefined;
        const bar = await barsFor(cmd);
        const result = await client.pull(spec, {
          outDir: o.out,
          offline: o.offline,
          link: o.link,
          stage: o.stage,
          onProgress: bar
            ? (p) => {
                progress = bar(progress, 'downloading', p.total);
                progress.update(p.done);
              }
            : undefined,
        });
        progress?.stop();
        if (isJson(cmd)) return result;
        const cached = result.files.filter((f) => f.cached).length;
        console.log(`${result.asset}:${result.version} — ${plural(result.files.length, 'file')}, downloaded ${formatBytes(result.downloaded)}, ${cached} from cache`);
        for (const f of result.files) console.log(`  ${f.outPath ?? f.cachePath}`);
        return undefined;
      }),
    );

  program
    .command('resolve <spec>')
    .description('resolve a spec to an exact version with download URLs')
    .addOption(new Option('--stage <stage>', 'only published versions').choices(['published']))
    .action(
      run(async (client, cmd, spec: string) => {
        const r = await client.resolve(spec, { stage: cmd.opts<{ stage?: 'published' }>().stage });
        if (isJson(cmd)) return r;
        console.log(`${r.asset}:${r.version} (${r.status}${r.aliases.length ? `; ${r.aliases.join(', ')}` : ''})`);
        printTable(['PATH', 'SIZE', 'FORMAT', 'SHA256'], r.files.map((f) => [f.path, formatBytes(f.size), f.format, f.sha256]));
        return undefined;
      }),
    );

  program
    .command('publish <name> [version]')
    .description('publish a ready version (NAME VERSION or NAME:VERSION): frozen forever')
    .action(
      run(async (client, cmd, name: string, version?: string) => {
        const v = await client.publish(...nameAndVersion(name, version));
        if (isJson(cmd)) return v;
        console.log(`${v.asset}:${v.version} ${v.status}`);
        return undefined;
      }),
    );

  program
    .command('alias <name> [alias] [version]')
    .description('list aliases; set ALIAS to VERSION; delete ALIAS with --delete; or show its moves with --history')
    .option('--delete', 'delete the alias')
    .option('--history', 'every move of ALIAS, newest first')
    .option('--at <time>', 'with --history: only the move in force at this ISO time')
    .action(
      run(async (client, cmd, name: string, alias?: string, version?: string) => {
        const { delete: del, history, at } = cmd.opts<{ delete?: boolean; history?: boolean; at?: string }>();
        if (history) {
          if (!alias) throw new Error('give the alias whose history to show');
          const page = await client.aliasHistory(name, alias, { at, limit: 100 });
          if (isJson(cmd)) return page;
          printAudit(page.items);
          return undefined;
        }
        if (!alias) {
          const page = await client.listAliases(name);
          if (isJson(cmd)) return page;
          printTable(['ALIAS', 'VERSION', 'UPDATED', 'BY'], page.items.map((a) => [a.alias, a.version, a.updatedAt, a.updatedBy]));
          return undefined;
        }
        if (del) {
          await client.deleteAlias(name, alias);
          if (isJson(cmd)) return { asset: name, alias, deleted: true };
          console.log(`${name}: alias ${alias} deleted`);
          return undefined;
        }
        if (!version) throw new Error(`give the version for ${alias}, or --delete`);
        const a = await client.setAlias(name, alias, version);
        if (isJson(cmd)) return a;
        console.log(`${name}: ${a.alias} → ${a.version}`);
        return undefined;
      }),
    );

  program
    .command('audit')
    .description('the audit log, newest first: one asset\'s trail (reader on it), or everything (registry admin)')
    .option('--asset <name>', 'only this asset (kept after the asset is deleted)')
    .option('--actor <principal>', 'only this principal\'s actions')
    .option('--since <time>', 'from this ISO time')
    .option('--until <time>', 'up to this ISO time')
    .option('--limit <n>', 'entries per page (1-100)', '50')
    .option('--cursor <cursor>', 'the nextCursor of the previous page')
    .action(
      run(async (client, cmd) => {
        const o = cmd.opts<{ asset?: string; actor?: string; since?: string; until?: string; limit: string; cursor?: string }>();
        const page = await client.audit({ ...o, limit: Number(o.limit) });
        if (isJson(cmd)) return page;
        printAudit(page.items);
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
        return undefined;
      }),
    );

  program
    .command('rm <name> [version]')
    .description('delete a version (a tombstone), or with no version the whole asset (admin, --force --reason)')
    .option('--force', 'required to delete a published version or an asset')
    .option('--reason <text>', 'why (kept in the audit log; required with --force)')
    .action(
      run(async (client, cmd, name: string, version?: string) => {
        const o = cmd.opts<{ force?: boolean; reason?: string }>();
        if (o.force && !o.reason?.trim()) throw new Error('--force needs --reason "why" (kept in the audit log)');
        try {
          if (version) await client.deleteVersion(name, version, o);
          else await client.deleteAsset(name, o);
        } catch (err) {
          const { explainRm } = await import('./explain.ts');
          throw explainRm(err, name, version);
        }
        if (isJson(cmd)) return { asset: name, version, deleted: true };
        console.log(version ? `${name}:${version} deleted` : `${name} deleted`);
        return undefined;
      }),
    );

  const outputs = program.command('outputs').description('run outputs: a flow run\'s expiring artifacts, promotable to versions');
  outputs
    .command('ls <flow> [run]')
    .description('the outputs of a run (default: the flow\'s latest run)')
    .action(
      run(async (client, cmd, flow: string, runName?: string) => {
        const page = await client.listOutputs(flow, runName ?? 'latest');
        if (isJson(cmd)) return page;
        console.log(`${page.flow}/${page.run}`);
        printTable(['NAME', 'STATUS', 'FILES', 'SIZE', 'EXPIRES'], page.items.map((o) => [o.name, o.status, String(o.files.length), formatBytes(o.size), o.expiresAt]));
        return undefined;
      }),
    );
  outputs
    .command('put <flow> <run> <name> <paths...>')
    .description('upload files and directories as an output of a run (only what the store lacks)')
    .option('--ttl-days <days>', 'days until the output expires, 1–90 (default 7)')
    .option('--meta <file.json>', 'a small JSON object kept with the output')
    .option('--format <format>', 'format label for every file (default: from the extension)')
    .action(
      run(async (client, cmd, flow: string, runName: string, name: string, paths: string[]) => {
        const o = cmd.opts<{ ttlDays?: string; meta?: string; format?: string }>();
        const result = await client.putOutput(flow, runName, name, paths, {
          ...(o.ttlDays !== undefined ? { ttlDays: positiveInt(o.ttlDays, '--ttl-days') } : {}),
          ...(o.meta ? { metadata: await readJsonFile(o.meta, '--meta') } : {}),
          format: o.format,
        });
        if (isJson(cmd)) return result;
        const out = result.output;
        console.log(`${out.flow}/${out.run}/${out.name} ${out.status} — ${formatBytes(out.size)}, uploaded ${formatBytes(result.uploaded)}, already stored ${formatBytes(result.skipped)}; expires ${out.expiresAt}`);
        return undefined;
      }),
    );
  outputs
    .command('get <flow> <run> <name>')
    .description('an output with download URLs (RUN may be "latest")')
    .action(
      run(async (client, cmd, flow: string, runName: string, name: string) => {
        const out = await client.getOutput(flow, runName, name);
        if (isJson(cmd)) return out;
        console.log(`${out.flow}/${out.run}/${out.name} ${out.status}; expires ${out.expiresAt}`);
        printTable(['PATH', 'SIZE', 'SHA256', 'URL'], out.files.map((f) => [f.path, formatBytes(f.size), f.sha256, f.url ?? '']));
        return undefined;
      }),
    );
  outputs
    .command('promote <flow> <run> <name> <asset>')
    .description('make an asset version of an output, without uploading its bytes again')
    .option('--version <version>', 'explicit version (default: bump from the highest)')
    .addOption(new Option('--bump <part>', 'which part to bump').choices(['major', 'minor', 'patch']))
    .option('-m, --description <text>', 'description (Markdown)')
    .option('--record <spec...>', 'inputs this version was made from (resolved to exact versions)')
    .action(
      run(async (client, cmd, flow: string, runName: string, name: string, assetName: string) => {
        const o = cmd.opts<{ version?: string; bump?: 'minor'; description?: string; record?: string[] }>();
        const v = await client.promoteOutput(flow, runName, name, {
          asset: assetName,
          ...(o.version ? { version: o.version } : {}),
          ...(o.bump ? { bump: o.bump } : {}),
          ...(o.description ? { description: o.description } : {}),
          ...(o.record ? { records: o.record } : {}),
        });
        if (isJson(cmd)) return v;
        console.log(`${v.asset}:${v.version} ${v.status} — from ${flow}/${runName}/${name}`);
        return undefined;
      }),
    );

  program
    .command('lineage <spec>')
    .description('what a version (NAME:VERSION) was made from, and which versions record it')
    .action(
      run(async (client, cmd, spec: string) => {
        const l = await client.lineage(...nameAndVersion(spec));
        if (isJson(cmd)) return l;
        console.log(`${l.asset}:${l.version} (${l.status})`);
        const src = l.upstream.source;
        printTable(
          ['DIRECTION', 'FROM / TO'],
          [
            ...(src ? [['upstream', `run output ${src.flow}/${src.run}/${src.name}`]] : []),
            ...l.upstream.records.map((r) => ['upstream', `${r.asset}:${r.version}`]),
            ...l.downstream.items.map((r) => ['downstream', `${r.asset}:${r.version}`]),
          ],
        );
        return undefined;
      }),
    );

  const hooks = program.command('hooks').description('webhooks (admin): events POSTed to a URL, signed');
  hooks
    .command('ls')
    .description('registered webhooks')
    .action(
      run(async (client, cmd) => {
        const page = await client.listHooks();
        if (isJson(cmd)) return page;
        printTable(['ID', 'URL', 'EVENTS', 'PREFIX', 'CREATED'], page.items.map((h) => [h.id, h.url, h.events.join(', '), h.assetPrefix ?? '', h.createdAt]));
        return undefined;
      }),
    );
  hooks
    .command('add <url>')
    .description('register a webhook; prints its signing secret once')
    .requiredOption('--event <type...>', 'event detail types, e.g. "Asset Version Created"')
    .option('--prefix <prefix>', 'only assets whose name starts with this')
    .action(
      run(async (client, cmd, url: string) => {
        const o = cmd.opts<{ event: string[]; prefix?: string }>();
        const hook = await client.createHook({ url, events: o.event as HookRecord['events'], ...(o.prefix ? { assetPrefix: o.prefix } : {}) });
        if (isJson(cmd)) return hook;
        console.log(`hook ${hook.id} → ${hook.url}\nsecret (shown once): ${hook.secret}`);
        return undefined;
      }),
    );
  hooks
    .command('rm <id>')
    .description('delete a webhook')
    .action(
      run(async (client, cmd, id: string) => {
        await client.deleteHook(id);
        if (isJson(cmd)) return { id, deleted: true };
        console.log(`hook ${id} deleted`);
        return undefined;
      }),
    );
  hooks
    .command('deliveries <id>')
    .description("a webhook's delivery attempts and their outcome")
    .action(
      run(async (client, cmd, id: string) => {
        const page = await client.listDeliveries(id);
        if (isJson(cmd)) return page;
        printTable(['AT', 'EVENT', 'ATTEMPT', 'STATUS', 'OK', 'MS'], page.items.map((d) => [d.at, d.detailType, String(d.attempt), d.statusCode === undefined ? (d.error ?? '-') : String(d.statusCode), d.ok ? 'yes' : 'no', String(d.durationMs)]));
        return undefined;
      }),
    );

  const grants = program.command('grants').description('who holds which role on which asset-name prefix (admin of every name)');
  grants
    .command('ls')
    .description('grants of the grants table (deploy-time grants are not listed)')
    .option('--principal <principal>', 'only this principal (IAM ARN, JWT subject or group:NAME)')
    .option('--prefix <prefix>', 'only grants whose prefix starts with this')
    .action(
      run(async (client, cmd) => {
        const o = cmd.opts<{ principal?: string; prefix?: string }>();
        const items: GrantRecord[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listGrants({ ...o, ...(cursor ? { cursor } : {}) });
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        if (isJson(cmd)) return { items };
        printTable(['PRINCIPAL', 'PREFIX', 'ROLE', 'GRANTED', 'BY'], items.map((g) => [g.principal, g.prefix === '' ? '(every name)' : g.prefix, g.role, g.grantedAt, g.grantedBy]));
        return undefined;
      }),
    );
  grants
    .command('add <principal> <role> [prefix]')
    .description('give a role (reader, writer, publisher, admin) on names starting with prefix (none: every name); again replaces the role')
    .action(
      run(async (client, cmd, principal: string, role: string, prefix?: string) => {
        const grant = await client.putGrant({ principal, role: role as GrantRecord['role'], prefix: prefix ?? '' });
        if (isJson(cmd)) return grant;
        console.log(`${grant.principal} is ${grant.role} on ${grant.prefix === '' ? 'every name' : `${grant.prefix}*`}`);
        return undefined;
      }),
    );
  grants
    .command('rm <principal> [prefix]')
    .description('revoke the grant on prefix (none: the every-name grant)')
    .action(
      run(async (client, cmd, principal: string, prefix?: string) => {
        await client.deleteGrant(principal, prefix ?? '');
        if (isJson(cmd)) return { principal, prefix: prefix ?? '', deleted: true };
        console.log(`grant to ${principal} on ${prefix ? `${prefix}*` : 'every name'} revoked`);
        return undefined;
      }),
    );

  const cache = program.command('cache').description('the local download cache');
  cache
    .command('ls')
    .description('cached blobs, most recently used first')
    .action(async (_opts: unknown, cmd: Command) => {
      const blobCache = await cacheFor(cmd);
      const blobs = await blobCache.list();
      const bytes = blobs.reduce((n, b) => n + b.size, 0);
      if (isJson(cmd)) {
        print({ dir: blobCache.dir, bytes, blobs });
        return;
      }
      printTable(['SHA256', 'SIZE', 'LAST USED'], blobs.map((b) => [b.sha256, formatBytes(b.size), b.lastUsed.toISOString()]));
      console.log(`${plural(blobs.length, 'blob')}, ${formatBytes(bytes)} in ${blobCache.dir}`);
    });
  cache
    .command('prune')
    .description('delete least recently used blobs until the cache fits --max-size')
    .option('--max-size <size>', 'e.g. 10G, 500M; 0 empties the cache', '0')
    .action(async (opts: { maxSize: string }, cmd: Command) => {
      const blobCache = await cacheFor(cmd);
      const { parseSize } = await import('../cache.ts');
      const r = await blobCache.prune(parseSize(opts.maxSize));
      if (isJson(cmd)) {
        print({ dir: blobCache.dir, removed: r.removed, kept: r.kept, bytes: r.bytes });
        return;
      }
      console.log(`removed ${plural(r.removed.length, 'blob')} (${formatBytes(r.removed.reduce((n, b) => n + b.size, 0))}); ${r.kept} left, ${formatBytes(r.bytes)}`);
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(arca completion bash), or zsh')
    .addArgument(new Argument('<shell>').choices(['bash', 'zsh']))
    .action(async (shell: 'bash' | 'zsh') => {
      const { completionScript } = await import('./completion.ts');
      process.stdout.write(completionScript(program, shell));
    });

  return program;
}

/** The cache needs no registry URL: only the cache dir setting. */
async function cacheFor(cmd: Command) {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const { configFilePath, defaultCacheDir, readConfigFile } = await import('../config.ts');
  const { BlobCache } = await import('../cache.ts');
  const file = await readConfigFile(configFilePath());
  return new BlobCache(g.cacheDir ?? process.env.ARCA_CACHE_DIR ?? file.cacheDir ?? defaultCacheDir());
}

function report(err: unknown, json: boolean): void {
  const e = err as Partial<ArcaApiError> & Error;
  const code = typeof e.code === 'string' ? e.code : 'Error';
  if (json) {
    print({ error: { code, message: e.message, ...(e.requestId ? { requestId: e.requestId } : {}), ...(e.details !== undefined ? { details: e.details } : {}) } });
  } else {
    console.error(`arca: ${code}: ${e.message}${e.requestId ? ` (request ${e.requestId})` : ''}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    console.log(VERSION);
    return 0;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    report(err, argv.includes('--json'));
    return 1;
  }
}
