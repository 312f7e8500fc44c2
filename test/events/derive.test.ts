import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { deriveEvents, eventId, tableOf, type StreamRecordLike } from '../../functions/events/derive.ts';
import { DETAIL_SCHEMAS } from '../../contract/events.ts';

const sha = 'a'.repeat(64);
const file = { path: 'model.pkl', size: 3, sha256: sha, format: 'pkl', contentType: 'application/octet-stream' };
const version = (status: string, extra: Record<string, unknown> = {}) => ({
  asset: 'fraud/xgb',
  vkey: '0000000000000001.0000000000000002.0000000000000000~',
  version: '1.2.0',
  status,
  files: [file],
  createdBy: 'alice',
  updatedBy: 'alice',
  updatedAt: '2026-11-22T08:00:00.000Z',
  ...extra,
});

let seq = 100;
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', keys: Record<string, unknown>, old?: object, next?: object): StreamRecordLike {
  seq += 1;
  return {
    eventName,
    dynamodb: {
      Keys: marshall(keys),
      ...(old ? { OldImage: marshall(old, { removeUndefinedValues: true }) } : {}),
      ...(next ? { NewImage: marshall(next, { removeUndefinedValues: true }) } : {}),
      SequenceNumber: String(seq),
      ApproximateCreationDateTime: 1_790_000_000,
    },
  };
}
const vKeys = { asset: 'fraud/xgb', vkey: version('x').vkey };
const aKeys = { asset: 'fraud/xgb', alias: 'production' };

describe('deriveEvents: versions', () => {
  it.each([
    ['INSERT pending', record('INSERT', vKeys, undefined, version('pending')), []],
    ['INSERT ready (all bytes already present)', record('INSERT', vKeys, undefined, version('ready')), ['Asset Version Created']],
    ['pending → ready', record('MODIFY', vKeys, version('pending'), version('ready')), ['Asset Version Created']],
    ['ready → ready (metadata edit)', record('MODIFY', vKeys, version('ready'), version('ready', { description: 'x' })), []],
    ['ready → published', record('MODIFY', vKeys, version('ready'), version('published', { publishedBy: 'bob' })), ['Asset Version Published']],
    ['published → published (publish twice)', record('MODIFY', vKeys, version('published'), version('published')), []],
    ['ready → deleted', record('MODIFY', vKeys, version('ready'), version('deleted', { deletedBy: 'carol' })), ['Asset Version Deleted']],
    ['published → deleted', record('MODIFY', vKeys, version('published'), version('deleted')), ['Asset Version Deleted']],
    ['pending → deleted (expiry)', record('MODIFY', vKeys, version('pending'), version('deleted')), []],
    ['REMOVE ready', record('REMOVE', vKeys, version('ready')), ['Asset Version Deleted']],
    ['REMOVE tombstone', record('REMOVE', vKeys, version('deleted')), []],
  ])('%s', (_name, rec, types) => {
    expect(deriveEvents(rec).map((e) => e.detailType)).toEqual(types);
  });

  it('builds the whole detail of Asset Version Created, valid against its schema', () => {
    const [event] = deriveEvents(record('MODIFY', vKeys, version('pending'), version('ready')));
    expect(event).toEqual({
      detailType: 'Asset Version Created',
      detail: {
        eventId: expect.stringMatching(/^[0-9a-f]{64}$/),
        asset: 'fraud/xgb',
        version: '1.2.0',
        status: 'ready',
        files: [{ path: 'model.pkl', size: 3, sha256: sha, format: 'pkl' }],
        actor: 'alice',
        at: '2026-11-22T08:00:00.000Z',
      },
    });
    expect(DETAIL_SCHEMAS['Asset Version Created'].parse(event?.detail)).toEqual(event?.detail);
  });

  it('leaves out a file list too large for one EventBridge event', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ ...file, path: `${'d/'.repeat(120)}f${i}.pkl` }));
    const [event] = deriveEvents(record('MODIFY', vKeys, version('pending'), version('ready', { files: many })));
    expect(event?.detail).not.toHaveProperty('files');
    expect(Buffer.byteLength(JSON.stringify(event?.detail))).toBeLessThan(256 * 1024);
    expect(DETAIL_SCHEMAS['Asset Version Created'].parse(event?.detail)).toEqual(event?.detail);
  });

  it('announces a promoted output once, when its version is written, with the run it came from', () => {
    const source = { flow: 'train', run: 'r1', name: 'features' };
    const events = deriveEvents(record('INSERT', vKeys, undefined, version('ready', { source })));
    expect(events.map((e) => e.detailType)).toEqual(['Asset Version Created', 'Output Promoted']);
    const promoted = events[1]?.detail;
    expect(promoted).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f]{64}$/),
      asset: 'fraud/xgb',
      version: '1.2.0',
      flow: 'train',
      run: 'r1',
      output: 'features',
      actor: 'alice',
      at: '2026-11-22T08:00:00.000Z',
    });
    expect(DETAIL_SCHEMAS['Output Promoted'].parse(promoted)).toEqual(promoted);
    expect(promoted?.eventId).not.toBe(events[0]?.detail.eventId);
    // Later changes of that version are not promotions again.
    expect(deriveEvents(record('MODIFY', vKeys, version('ready', { source }), version('published', { source }))).map((e) => e.detailType)).toEqual([
      'Asset Version Published',
    ]);
  });

  it('attributes publish and delete to who did them', () => {
    const [pub] = deriveEvents(record('MODIFY', vKeys, version('ready'), version('published', { publishedBy: 'bob', publishedAt: '2026-11-22T09:00:00Z' })));
    expect(pub?.detail).toMatchObject({ actor: 'bob', at: '2026-11-22T09:00:00.000Z', status: 'published' });
    const [del] = deriveEvents(record('MODIFY', vKeys, version('ready'), version('deleted', { deletedBy: 'carol' })));
    expect(del?.detail).toMatchObject({ actor: 'carol', status: 'deleted', version: '1.2.0' });
    expect(DETAIL_SCHEMAS['Asset Version Deleted'].parse(del?.detail)).toEqual(del?.detail);
  });
});

describe('deriveEvents: aliases and assets', () => {
  const alias = (v: string) => ({ ...aKeys, version: v, updatedBy: 'dave', updatedAt: '2026-11-22T10:00:00Z' });
  it.each([
    ['alias set', record('INSERT', aKeys, undefined, alias('1.2.0')), ['Alias Updated']],
    ['alias moved', record('MODIFY', aKeys, alias('1.1.0'), alias('1.2.0')), ['Alias Updated']],
    ['alias rewritten to the same version', record('MODIFY', aKeys, alias('1.2.0'), alias('1.2.0')), []],
    ['alias deleted', record('REMOVE', aKeys, alias('1.2.0')), ['Alias Updated']],
    ['asset created', record('INSERT', { name: 'fraud/xgb' }, undefined, { name: 'fraud/xgb', createdBy: 'erin' }), ['Asset Created']],
    ['asset counter moved', record('MODIFY', { name: 'fraud/xgb' }, { name: 'fraud/xgb', live: 1 }, { name: 'fraud/xgb', live: 2 }), []],
    ['asset removed', record('REMOVE', { name: 'fraud/xgb' }, { name: 'fraud/xgb' }), ['Asset Deleted']],
    ['asset tombstoned', record('MODIFY', { name: 'fraud/xgb' }, { name: 'fraud/xgb' }, { name: 'fraud/xgb', deletedAt: '2026-11-22T10:00:00Z', deletedBy: 'root' }), ['Asset Deleted']],
    ['unknown table', record('INSERT', { sha256: sha }, undefined, { sha256: sha }), []],
  ])('%s', (_name, rec, types) => {
    expect(deriveEvents(rec).map((e) => e.detailType)).toEqual(types);
  });

  it("an asset deletion carries the admin's reason, when one was given", () => {
    const marked = (extra: Record<string, string>) =>
      record('MODIFY', { name: 'fraud/xgb' }, { name: 'fraud/xgb' }, { name: 'fraud/xgb', deletedAt: '2026-11-22T10:00:00Z', deletedBy: 'root', ...extra });
    expect(deriveEvents(marked({ deleteReason: 'retired' }))[0]?.detail).toEqual({
      eventId: expect.any(String),
      asset: 'fraud/xgb',
      actor: 'root',
      at: '2026-11-22T10:00:00.000Z',
      reason: 'retired',
    });
    expect(deriveEvents(marked({}))[0]?.detail).not.toHaveProperty('reason');
  });

  it('gives the alias target, or none once the alias is deleted', () => {
    const [moved] = deriveEvents(record('MODIFY', aKeys, alias('1.1.0'), alias('1.2.0')));
    expect(moved?.detail).toEqual({
      eventId: expect.any(String),
      asset: 'fraud/xgb',
      alias: 'production',
      version: '1.2.0',
      actor: 'dave',
      at: '2026-11-22T10:00:00.000Z',
    });
    const [gone] = deriveEvents(record('REMOVE', aKeys, alias('1.2.0')));
    expect(gone?.detail).toMatchObject({ alias: 'production', actor: 'system', at: new Date(1_790_000_000_000).toISOString() });
    expect(gone?.detail).not.toHaveProperty('version');
    for (const e of [moved, gone]) expect(DETAIL_SCHEMAS['Alias Updated'].parse(e?.detail)).toEqual(e?.detail);
  });

  it("names the user who removed an alias or (with its asset) a live version, from the old image's mark", () => {
    const marked = { ...alias('1.2.0'), deletedBy: 'arn:aws:iam::1:user/erin', deletedAt: '2026-11-22T11:00:00Z' };
    expect(deriveEvents(record('MODIFY', aKeys, alias('1.2.0'), marked))).toEqual([]);
    const [gone] = deriveEvents(record('REMOVE', aKeys, marked));
    expect(gone?.detail).toMatchObject({ alias: 'production', actor: 'arn:aws:iam::1:user/erin', at: '2026-11-22T11:00:00.000Z' });
    const live = version('ready', { deletedBy: 'arn:aws:iam::1:user/root' });
    expect(deriveEvents(record('MODIFY', vKeys, version('ready'), live))).toEqual([]);
    const [removed] = deriveEvents(record('REMOVE', vKeys, live));
    expect(removed?.detailType).toBe('Asset Version Deleted');
    expect(removed?.detail).toMatchObject({ actor: 'arn:aws:iam::1:user/root' });
  });
});

describe('eventId', () => {
  it('is the same for a redelivered record and differs between records', () => {
    const rec = record('MODIFY', vKeys, version('pending'), version('ready'));
    const redelivered = structuredClone(rec);
    const first = deriveEvents(rec)[0]?.detail.eventId;
    expect(deriveEvents(redelivered)[0]?.detail.eventId).toBe(first);
    const later = record('MODIFY', vKeys, version('pending'), version('ready'));
    expect(deriveEvents(later)[0]?.detail.eventId).not.toBe(first);
  });

  it('separates tables, keys, sequence numbers and detail types', () => {
    const ids = new Set([
      eventId('versions', vKeys, '1', 'Asset Version Created'),
      eventId('versions', vKeys, '1', 'Asset Version Published'),
      eventId('versions', vKeys, '2', 'Asset Version Created'),
      eventId('versions', { ...vKeys, vkey: 'other' }, '1', 'Asset Version Created'),
      eventId('aliases', aKeys, '1', 'Alias Updated'),
    ]);
    expect(ids.size).toBe(5);
  });

  it('tells tables apart by their keys', () => {
    expect([tableOf(vKeys), tableOf(aKeys), tableOf({ name: 'x' }), tableOf({ id: 'x' })]).toEqual(['versions', 'aliases', 'assets', undefined]);
  });
});
