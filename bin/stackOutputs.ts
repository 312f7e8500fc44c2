/**
 * The outputs of a deployed stage, as `cdk deploy --outputs-file` writes them: the file is `ARCA_DEPLOYED_OUTPUTS`
 * (default `cdk-outputs.json`), the stack `ARCA_STACK_NAME` (default `Arca`). Read by the operator scripts
 * (bin/backfill-published.ts) and the deployed-stage scenarios (test/deployed/run.ts).
 */
import { existsSync, readFileSync } from 'node:fs';

export const OUTPUTS_FILE = process.env.ARCA_DEPLOYED_OUTPUTS ?? 'cdk-outputs.json';
export const STACK_NAME = process.env.ARCA_STACK_NAME ?? 'Arca';

/** Every stack's outputs in the file, or undefined when there is no file. */
export function readStackOutputs(): Record<string, Record<string, string>> | undefined {
  return existsSync(OUTPUTS_FILE) ? (JSON.parse(readFileSync(OUTPUTS_FILE, 'utf8')) as Record<string, Record<string, string>>) : undefined;
}
