/**
 * Typed errors. Domain code and adapters throw these; one mapping (`ERROR_STATUS` in contract/errors.ts)
 * turns a code into a status at the HTTP edge. Anything that is not an ArcaError becomes 500 Internal.
 */
import { ERROR_STATUS, type ErrorCode } from '../../contract/errors.ts';

export class ArcaError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = code;
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const validationError = (message: string, details?: unknown) => new ArcaError('ValidationError', message, details);
export const notFound = (message: string, details?: unknown) => new ArcaError('NotFound', message, details);
export const conflict = (
  code: 'AlreadyExists' | 'VersionCapReached' | 'VersionPublished' | 'VersionNotReady' | 'AliasInUse' | 'UploadIncomplete',
  message: string,
  details?: unknown,
) => new ArcaError(code, message, details);
