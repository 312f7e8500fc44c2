import { describe, expect, it } from 'vitest';
import { TABLES, type TableName, type TableSchema } from '../../contract/tables.ts';
import { logicalId, resourcesOf, synth } from './synth.ts';

const { stack, template } = synth();
const tables = resourcesOf(template, 'AWS::DynamoDB::Table');

const keySchema = (pk: { name: string }, sk?: { name: string }) => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
];

describe('metadata tables are built from contract/tables.ts', () => {
  it('has exactly one table per contract table', () => {
    expect(Object.keys(tables)).toHaveLength(Object.keys(TABLES).length);
  });

  it.each(Object.entries(TABLES) as [TableName, TableSchema][])('%s: keys, indexes, TTL and stream equal the contract', (name, schema) => {
    const table = tables[logicalId(stack.registry.tables[name])];
    expect(table).toBeDefined();
    const p = table!.Properties;
    expect(p.KeySchema).toEqual(keySchema(schema.partitionKey, schema.sortKey));
    const indexes = (p.GlobalSecondaryIndexes as unknown[] | undefined) ?? [];
    expect(indexes).toEqual(
      (schema.globalIndexes ?? []).map((i) => ({
        IndexName: i.indexName,
        KeySchema: keySchema(i.partitionKey, i.sortKey),
        Projection: { ProjectionType: i.projection },
      })),
    );
    const declared = [schema.partitionKey, schema.sortKey, ...(schema.globalIndexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])]
      .filter((k): k is NonNullable<typeof k> => k !== undefined)
      .map((k) => ({ AttributeName: k.name, AttributeType: k.type }));
    const unique = [...new Map(declared.map((d) => [d.AttributeName, d])).values()];
    expect(p.AttributeDefinitions).toEqual(expect.arrayContaining(unique));
    expect(p.AttributeDefinitions).toHaveLength(unique.length);
    expect(p.TimeToLiveSpecification).toEqual(schema.ttlAttribute ? { AttributeName: schema.ttlAttribute, Enabled: true } : undefined);
    expect(p.StreamSpecification).toEqual(schema.stream ? { StreamViewType: 'NEW_AND_OLD_IMAGES' } : undefined);
  });

  it('the versions table has the sparse published index stage=published reads (keyed like live and stable)', () => {
    const versions = tables[logicalId(stack.registry.tables.versions)]!.Properties;
    expect(versions.GlobalSecondaryIndexes).toContainEqual({
      IndexName: 'published',
      KeySchema: [
        { AttributeName: 'publishedAsset', KeyType: 'HASH' },
        { AttributeName: 'vkey', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    expect(versions.AttributeDefinitions).toContainEqual({ AttributeName: 'publishedAsset', AttributeType: 'S' });
  });

  it('every table is on-demand, point-in-time recoverable, encrypted, protected and retained', () => {
    for (const table of Object.values(tables)) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('outputs every table name, the API URL, the bucket and the event bus', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'BucketName', 'EventBusName', ...Object.values(TABLES).map((t) => `${t.id}TableName`)]),
    );
    template.hasOutput('EventBusName', { Value: { Ref: logicalId(stack.registry.bus) } });
    template.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [logicalId(stack.registry.api), 'ApiEndpoint'] } });
  });
});
