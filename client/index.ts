/** The Arca TypeScript SDK. */
export { ArcaClient, type ArcaClientOptions, type ListAssetsQuery, type ListVersionsQuery, type DeleteOptions } from './client.ts';
export { ArcaApiError, type ArcaErrorCode } from './errors.ts';
export { loadConfig, configFilePath, defaultCacheDir, type ClientConfig, type ConfigSettings } from './config.ts';
export type { PushOptions, PushResult, PushProgress } from './push.ts';
export type { PullOptions, PullResult, PulledFile } from './pull.ts';
export type { LoadOrGenerateOptions, LoadOrGenerateResult } from './loadOrGenerate.ts';
export type { TransferStats } from './transfer.ts';
export { verifyWebhook, type WebhookHeaders, type WebhookPayload } from './webhooks.ts';
export type * from '../contract/schemas.ts';
