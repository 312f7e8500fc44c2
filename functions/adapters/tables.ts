/**
 * Creates the tables of contract/tables.ts on a DynamoDB endpoint (DynamoDB Local in tests and local
 * mode), named `${prefix}${schema.id}`. The CDK stack creates the same tables from the same schemas.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type KeyAttribute, type TableName, type TableSchema } from '../../contract/tables.ts';

export type TableNames = Record<TableName, string>;

export function tableNames(prefix: string): TableNames {
  return Object.fromEntries(Object.entries(TABLES).map(([key, schema]) => [key, `${prefix}${schema.id}`])) as TableNames;
}

const keySchema = (pk: KeyAttribute, sk?: KeyAttribute): KeySchemaElement[] => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

function definitions(schema: TableSchema): AttributeDefinition[] {
  const attrs = new Map<string, KeyAttribute>();
  for (const a of [schema.partitionKey, schema.sortKey, ...(schema.globalIndexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (a) attrs.set(a.name, a);
  }
  return [...attrs.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type }));
}

/** Creates every table that does not exist yet (idempotent) and waits until each is ACTIVE. */
export async function createTables(client: DynamoDBClient, prefix: string): Promise<TableNames> {
  const names = tableNames(prefix);
  for (const [key, schema] of Object.entries(TABLES) as [TableName, TableSchema][]) {
    const TableName = names[key];
    const indexes: GlobalSecondaryIndex[] | undefined = schema.globalIndexes?.map((i) => ({
      IndexName: i.indexName,
      KeySchema: keySchema(i.partitionKey, i.sortKey),
      Projection: { ProjectionType: i.projection },
    }));
    try {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keySchema(schema.partitionKey, schema.sortKey),
          AttributeDefinitions: definitions(schema),
          GlobalSecondaryIndexes: indexes,
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
    for (let i = 0; i < 100; i++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName }));
      if (Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}
