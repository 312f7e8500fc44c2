/**
 * A run output promoted into an asset version, through the version create path (R-OUT). Apart from outputs.ts,
 * which the S3 finalize job imports to commit outputs: creating a version resolves its records, and with it
 * comes node-semver's range code, which that job would otherwise bundle for nothing.
 */
import type { PromoteOutputRequest, VersionRecord } from '../../contract/schemas.ts';
import { storeVersion } from './createVersion.ts';
import type { Actor } from './model.ts';
import { parseAssetName } from './names.ts';
import { liveOutput, notReady } from './outputReads.ts';
import { storedRef } from './outputs.ts';

/** An asset version of the output's verified file entries, created by the version create path. */
export async function promoteOutput(flow: string, run: string, name: string, req: PromoteOutputRequest, actor: Actor): Promise<VersionRecord> {
  const ref = storedRef(flow, run, name);
  const item = await liveOutput(ref, true);
  if (item.status !== 'ready') throw notReady(ref);
  const { asset, ...fields } = req;
  return storeVersion(parseAssetName(asset), fields, item.files, actor, ref);
}
