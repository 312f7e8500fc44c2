/**
 * Creates the tables of contract/tables.ts on a DynamoDB endpoint (DynamoDB Local in tests and local
 * mode), named `${prefix}${schema.id}`, and adds the indexes a table made by an older release lacks (local mode
 * keeps its tables between runs). The CDK stack creates the same tables from the same schemas.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type IndexSchema, type KeyAttribute, type TableName, type TableSchema } from '../../contract/tables.ts';

export type TableNames = Record<TableName, string>;

export function tableNames(prefix: string): TableNames {
  return Object.fromEntries(Object.entries(TABLES).map(([key, schema]) => [key, `${prefix}${schema.id}`])) as TableNames;
}

const keySchema = (pk: KeyAttribute, sk?: KeyAttribute): KeySchemaElement[] => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

function definitions(keys: readonly (KeyAttribute | undefined)[]): AttributeDefinition[] {
  const attrs = new Map<string, KeyAttribute>();
  for (const a of keys) if (a) attrs.set(a.name, a);
  return [...attrs.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type }));
}

const tableKeys = (schema: TableSchema) => [schema.partitionKey, schema.sortKey, ...(schema.globalIndexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])];

const indexOf = (i: IndexSchema): GlobalSecondaryIndex => ({
  IndexName: i.indexName,
  KeySchema: keySchema(i.partitionKey, i.sortKey),
  Projection: { ProjectionType: i.projection },
});

async function waitActive(client: DynamoDBClient, TableName: string): Promise<TableDescription | undefined> {
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName }));
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')) return Table;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** Creates every table that does not exist yet and every missing index (idempotent), and waits until each is ACTIVE. */
export async function createTables(client: DynamoDBClient, prefix: string): Promise<TableNames> {
  const names = tableNames(prefix);
  for (const [key, schema] of Object.entries(TABLES) as [TableName, TableSchema][]) {
    const TableName = names[key];
    try {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keySchema(schema.partitionKey, schema.sortKey),
          AttributeDefinitions: definitions(tableKeys(schema)),
          GlobalSecondaryIndexes: schema.globalIndexes?.map(indexOf),
          StreamSpecification: schema.stream ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } : undefined,
        }),
      );
      if (schema.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: schema.ttlAttribute } }),
        );
      }
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    const existing = new Set((await waitActive(client, TableName))?.GlobalSecondaryIndexes?.map((g) => g.IndexName));
    // DynamoDB creates one index per UpdateTable.
    for (const index of (schema.globalIndexes ?? []).filter((i) => !existing.has(i.indexName))) {
      await client.send(
        new UpdateTableCommand({ TableName, AttributeDefinitions: definitions([index.partitionKey, index.sortKey]), GlobalSecondaryIndexUpdates: [{ Create: indexOf(index) }] }),
      );
      await waitActive(client, TableName);
    }
  }
  return names;
}
