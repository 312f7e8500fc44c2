/**
 * Backfills the `published` index of a deployed stage's versions table (functions/jobs/backfillPublished.ts):
 * run once after deploying the release that adds the index; a second run finds nothing to do. Credentials and
 * region come from the standard AWS chain (`AWS_ENDPOINT_URL_DYNAMODB` points it elsewhere).
 *
 *   npx tsx bin/backfill-published.ts                     # VersionsTableName from cdk-outputs.json (stack Arca)
 *   npx tsx bin/backfill-published.ts <versions table>
 */
import { dynamoClients } from '../functions/adapters/dynamoBase.ts';
import { backfillPublished } from '../functions/jobs/backfillPublished.ts';
import { OUTPUTS_FILE, STACK_NAME, readStackOutputs } from './stackOutputs.ts';

function versionsTable(): string {
  const [named] = process.argv.slice(2);
  if (named) return named;
  const outputs = readStackOutputs();
  if (!outputs) throw new Error(`no ${OUTPUTS_FILE}: name the versions table (npx tsx bin/backfill-published.ts <table>) or deploy with --outputs-file ${OUTPUTS_FILE}`);
  const table = outputs[STACK_NAME]?.VersionsTableName;
  if (!table) throw new Error(`no VersionsTableName for stack ${STACK_NAME} in ${OUTPUTS_FILE}: name the table`);
  return table;
}

const table = versionsTable();
const result = await backfillPublished(dynamoClients(undefined).doc, table);
console.log(`${table}: ${result.found} published versions lacked publishedAsset; ${result.updated} written, ${result.skipped} changed meanwhile (left as they are)`);
