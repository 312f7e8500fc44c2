/**
 * The SDK's one error type. A service error keeps the service's `code`, `message` and `requestId`
 * (R-ERR) so the CLI can print them as they came; client-side failures use the same codes where one
 * fits (a download whose bytes do not match is `ChecksumMismatch`) and `ClientError` otherwise.
 */
import type { ErrorCode } from '../contract/errors.ts';

export type ArcaErrorCode = ErrorCode | 'ClientError' | 'NetworkError';

export class ArcaApiError extends Error {
  readonly code: ArcaErrorCode;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly details: unknown;

  constructor(code: ArcaErrorCode, message: string, opts: { status?: number; requestId?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ArcaApiError';
    this.code = code;
    this.status = opts.status;
    this.requestId = opts.requestId;
    this.details = opts.details;
  }
}

export const clientError = (message: string, details?: unknown): ArcaApiError => new ArcaApiError('ClientError', message, { details });

/** Turns a non-2xx answer of the API into an ArcaApiError, whatever the body looks like. */
export function errorFromResponse(status: number, bodyText: string, requestId?: string): ArcaApiError {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } };
    if (parsed.error?.code && parsed.error.message) {
      return new ArcaApiError(parsed.error.code as ErrorCode, parsed.error.message, {
        status,
        requestId: parsed.error.requestId ?? requestId,
        details: parsed.error.details,
      });
    }
  } catch {
    // Not the spec's error shape (a gateway or proxy answered): fall through to a status-based error.
  }
  const code: ErrorCode = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : status === 429 ? 'Throttled' : status >= 500 ? 'Internal' : 'ValidationError';
  return new ArcaApiError(code, `HTTP ${status}${bodyText ? `: ${bodyText.slice(0, 200)}` : ''}`, { status, requestId });
}
