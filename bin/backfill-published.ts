/**
 * Backfills the `published` index of a deployed stage's versions table (functions/jobs/backfillPublished.ts):
 * run once after deploying the release that adds the index; a second run finds nothing to do. Credentials and
 * region come from the standard AWS chain (`AWS_ENDPOINT_URL_DYNAMODB` points it elsewhere).
 *
 *   npx tsx bin/backfill-published.ts                     # VersionsTableName from cdk-outputs.json (stack Arca)
 *   npx tsx bin/backfill-published.ts <versions table>
 */
import { existsSync, readFileSync } from 'node:fs';
import { dynamoClients } from '../functions/adapters/dynamoBase.ts';
import { backfillPublished } from '../functions/jobs/backfillPublished.ts';

function versionsTable(): string {
  const [named] = process.argv.slice(2);
  if (named) return named;
  const file = process.env.ARCA_DEPLOYED_OUTPUTS ?? 'cdk-outputs.json';
  if (!existsSync(file)) throw new Error(`no ${file}: name the versions table (npx tsx bin/backfill-published.ts <table>) or deploy with --outputs-file ${file}`);
  const outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  const table = outputs[process.env.ARCA_STACK_NAME ?? 'Arca']?.VersionsTableName;
  if (!table) throw new Error(`no VersionsTableName for stack ${process.env.ARCA_STACK_NAME ?? 'Arca'} in ${file}: name the table`);
  return table;
}

const table = versionsTable();
const result = await backfillPublished(dynamoClients(undefined).doc, table);
console.log(`${table}: ${result.found} published versions lacked publishedAsset; ${result.updated} written, ${result.skipped} changed meanwhile (left as they are)`);
