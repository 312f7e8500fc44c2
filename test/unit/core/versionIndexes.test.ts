import { describe, expect, it } from 'vitest';
import { indexAttributes, spanPartition } from '../../../functions/adapters/versionIndexes.ts';

describe('indexAttributes: which sparse indexes a version is in', () => {
  it.each([
    ['pending', '1.0.0', {}],
    ['ready', '1.0.0', { liveAsset: 'a/b', stableAsset: 'a/b' }],
    ['ready', '1.0.0-rc.1', { liveAsset: 'a/b' }],
    ['published', '1.0.0', { liveAsset: 'a/b', stableAsset: 'a/b', publishedAsset: 'a/b' }],
    ['published', '1.0.0-rc.1', { liveAsset: 'a/b', publishedAsset: 'a/b#pre' }],
    ['deleted', '1.0.0', {}],
  ] as const)('%s %s', (status, version, expected) => {
    const attrs = Object.fromEntries(Object.entries(indexAttributes('a/b', version, status)).filter(([, v]) => v !== undefined));
    expect(attrs).toEqual(expected);
  });

  it('a published version is in the partition its span reads', () => {
    expect(spanPartition('a/b', { index: 'stable' }, true)).toEqual({ index: 'published', attribute: 'publishedAsset', value: 'a/b' });
    expect(spanPartition('a/b', { index: 'live' }, true)).toEqual({ index: 'published', attribute: 'publishedAsset', value: 'a/b#pre' });
    expect(spanPartition('a/b', { index: 'live' }, false)).toEqual({ index: 'live', attribute: 'liveAsset', value: 'a/b' });
    expect(spanPartition('a/b', { index: 'stable' }, false)).toEqual({ index: 'stable', attribute: 'stableAsset', value: 'a/b' });
  });
});
