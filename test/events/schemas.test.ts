/**
 * docs/events/*.schema.json are generated from contract/events.ts; this test fails when they drift.
 * Regenerate with `ARCA_WRITE_SCHEMAS=1 npx vitest run test/events/schemas.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DETAIL_SCHEMAS, DETAIL_TYPES, detailJsonSchema, detailSlug } from '../../contract/events.ts';

const dir = new URL('../../docs/events/', import.meta.url);
const fileOf = (type: (typeof DETAIL_TYPES)[number]) => new URL(`${detailSlug(type)}.schema.json`, dir);

if (process.env.ARCA_WRITE_SCHEMAS === '1') {
  mkdirSync(dir, { recursive: true });
  for (const type of DETAIL_TYPES) writeFileSync(fileOf(type), `${JSON.stringify(detailJsonSchema(type), null, 2)}\n`);
}

describe('published JSON Schemas of the event details', () => {
  it.each(DETAIL_TYPES)('%s: docs/events holds the schema contract/events.ts defines', (type) => {
    const published = JSON.parse(readFileSync(fileOf(type), 'utf8')) as Record<string, unknown>;
    expect(published).toEqual(detailJsonSchema(type));
    expect(published).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false });
    expect(published.required).toEqual(expect.arrayContaining(['eventId', 'asset', 'actor', 'at']));
  });

  it('every detail type requires what its events always carry', () => {
    const required = (type: (typeof DETAIL_TYPES)[number]) => (detailJsonSchema(type).required as string[]).sort();
    expect(required('Asset Version Created')).toEqual(['actor', 'asset', 'at', 'eventId', 'status', 'version']);
    expect(required('Alias Updated')).toEqual(['actor', 'alias', 'asset', 'at', 'eventId']);
    expect(Object.keys(DETAIL_SCHEMAS).sort()).toEqual([...DETAIL_TYPES].sort());
  });
});
