/** Hook and delivery items (contract/tables.ts `hooks`, `deliveries`). */
import { GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../../contract/zod.ts';
import { DetailTypeSchema } from '../../contract/eventNames.ts';
import type { DeliveryRecord, HookRecord } from '../../contract/events.ts';
import type { Page } from '../../contract/schemas.ts';
import type { AuditPut } from '../adapters/auditRepo.ts';
import { allItems, call, queryPage, transact } from '../adapters/dynamoBase.ts';

export const HookItem = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(DetailTypeSchema),
  assetPrefix: z.optional(z.string()),
  /** Sealed by a SecretBox; never leaves the service. */
  secret: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type HookItem = z.infer<typeof HookItem>;

const DeliveryItem = z.object({
  hookId: z.string(),
  sk: z.string(),
  eventId: z.string(),
  detailType: DetailTypeSchema,
  attempt: z.number(),
  statusCode: z.optional(z.number()),
  error: z.optional(z.string()),
  ok: z.boolean(),
  final: z.boolean(),
  at: z.string(),
  durationMs: z.number(),
  expiresAt: z.number(),
});

const DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600;

export const hookRecord = ({ secret: _sealed, ...hook }: HookItem): HookRecord => hook;

export interface HookTables {
  hooks: string;
  deliveries: string;
}

export class HookStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tables: HookTables,
  ) {}

  /** Stores a new hook and its `hook.create` audit entry in one transaction. */
  async put(item: HookItem, audit: AuditPut): Promise<void> {
    const put = { TableName: this.tables.hooks, Item: item, ConditionExpression: 'attribute_not_exists(id)' };
    await call(() => this.ddb.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, audit] })));
  }

  async get(id: string): Promise<HookItem | undefined> {
    const out = await call(() => this.ddb.send(new GetCommand({ TableName: this.tables.hooks, Key: { id }, ConsistentRead: true })));
    return out.Item ? HookItem.parse(out.Item) : undefined;
  }

  /** Deletes the hook and records `audit` in one transaction; false when there was none (nothing recorded). */
  async delete(id: string, audit: AuditPut): Promise<boolean> {
    const remove = { TableName: this.tables.hooks, Key: { id }, ConditionExpression: 'attribute_exists(id)' };
    const reasons = await transact(() => this.ddb.send(new TransactWriteCommand({ TransactItems: [{ Delete: remove }, audit] })));
    if (reasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
    if (reasons) throw new Error(`hook deletion cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
    return true;
  }

  list(limit: number, cursor?: string): Promise<Page<HookItem>> {
    return queryPage(
      { table: 'hooks', cursor },
      (start) => this.ddb.send(new ScanCommand({ TableName: this.tables.hooks, Limit: limit, ExclusiveStartKey: start, ConsistentRead: true })),
      (i) => HookItem.parse(i),
    );
  }

  /** Every hook (fan-out reads them all; a registry holds few). */
  async all(): Promise<HookItem[]> {
    const items: HookItem[] = [];
    const scan = allItems((start) => this.ddb.send(new ScanCommand({ TableName: this.tables.hooks, ExclusiveStartKey: start, ConsistentRead: true })));
    for await (const item of scan) items.push(HookItem.parse(item));
    return items;
  }

  async recordDelivery(record: DeliveryRecord): Promise<void> {
    const item: z.infer<typeof DeliveryItem> = {
      ...record,
      sk: `${record.at}#${record.eventId}#${String(record.attempt).padStart(4, '0')}`,
      expiresAt: Math.floor(Date.parse(record.at) / 1000) + DELIVERY_RETENTION_SECONDS,
    };
    await call(() => this.ddb.send(new PutCommand({ TableName: this.tables.deliveries, Item: item })));
  }

  /** A hook's delivery attempts, newest first. */
  deliveries(hookId: string, limit: number, cursor?: string): Promise<Page<DeliveryRecord>> {
    return queryPage(
      { table: 'deliveries', partition: { name: 'hookId', value: hookId }, cursor },
      (start) =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.tables.deliveries,
            KeyConditionExpression: 'hookId = :h',
            ExpressionAttributeValues: { ':h': hookId },
            ScanIndexForward: false,
            Limit: limit,
            ExclusiveStartKey: start,
          }),
        ),
      (i) => {
        const { sk: _sk, expiresAt: _exp, ...record } = DeliveryItem.parse(i);
        return record;
      },
    );
  }
}
