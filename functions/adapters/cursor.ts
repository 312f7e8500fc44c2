/**
 * Opaque list cursors: base64url of a query's LastEvaluatedKey. Free of environment side effects, so the
 * hook functions (which get only the hooks' variables) share it with the API.
 *
 * A cursor comes back from the caller, so it is checked before it reaches DynamoDB: exactly the key
 * attributes of the table (and index) the query reads, each of the type the key schema declares (all are
 * strings today), non-empty and within DynamoDB's key size, and the partition the query reads.
 * Anything else would make DynamoDB answer a ValidationException (a 500) or start another listing.
 */
import { TABLES, type IndexSchema, type TableName } from '../../contract/tables.ts';
import { validationError } from '../shared/errors.ts';

export type CursorKey = Record<string, string>;

/** DynamoDB's limit on a sort key value; a partition key may be 2048 bytes, so this bound is the stricter, safe one for both. */
const MAX_KEY_BYTES = 1024;
const isKeyValue = (v: unknown): boolean => typeof v === 'string' && v !== '' && Buffer.byteLength(v, 'utf8') <= MAX_KEY_BYTES;

/** The attributes of a LastEvaluatedKey of `table` (through `index`): the table's key, plus the index's. */
export function cursorKeyNames(table: TableName, index?: string): string[] {
  const schema = TABLES[table];
  const names: string[] = [schema.partitionKey.name, ...('sortKey' in schema ? [schema.sortKey.name] : [])];
  if (index !== undefined) {
    const indexes: readonly IndexSchema[] = 'globalIndexes' in schema ? schema.globalIndexes : [];
    const found = indexes.find((i) => i.indexName === index);
    if (!found) throw new Error(`table ${table} has no index ${index}`);
    names.push(found.partitionKey.name, ...(found.sortKey ? [found.sortKey.name] : []));
  }
  return [...new Set(names)];
}

export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

/**
 * The start key a cursor stands for; a 400 ValidationError unless it has exactly `keyNames`, non-empty string values,
 * (when given) `partition.name` equal to `partition.value`, and passes `within` (a key condition on the sort key).
 */
export function decodeCursor(
  cursor: string | undefined,
  keyNames: readonly string[],
  partition?: { name: string; value: string },
  within: (key: CursorKey) => boolean = () => true,
): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.keys(parsed).length === keyNames.length &&
    keyNames.every((k) => Object.hasOwn(parsed as object, k) && isKeyValue((parsed as Record<string, unknown>)[k])) &&
    (partition === undefined || (parsed as Record<string, unknown>)[partition.name] === partition.value) &&
    within(parsed as CursorKey);
  if (!ok) throw validationError('cursor is not one this API handed out for this listing', { cursor });
  return parsed as CursorKey;
}
