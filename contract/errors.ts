/** The error codes of R-ERR and the HTTP status each maps to. One table, read by the API and the SDK. */
export const ERROR_STATUS = {
  ValidationError: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  VersionCapReached: 409,
  VersionPublished: 409,
  VersionNotReady: 409,
  AliasInUse: 409,
  UploadIncomplete: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  ChecksumMismatch: 422,
  Throttled: 429,
  Internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}
