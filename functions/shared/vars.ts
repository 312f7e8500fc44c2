/**
 * Reading environment variables, free of side effects: ./env.ts (the API's configuration) and
 * functions/hooks/runtime.ts (the event functions', which get only their own variables) both build on it.
 */
import type { EnvName } from '../../contract/env.ts';

export type EnvSource = Record<string, string | undefined>;

export class EnvError extends Error {
  constructor(name: EnvName, problem: string) {
    super(`environment variable ${name} ${problem}`);
    this.name = 'EnvError';
  }
}

/** The variable's value; `undefined` when unset or empty. */
export const optional = (src: EnvSource, name: EnvName): string | undefined => {
  const v = src[name];
  return v === undefined || v === '' ? undefined : v;
};

export const required = (name: EnvName, src: EnvSource = process.env): string => {
  const v = optional(src, name);
  if (v === undefined) throw new EnvError(name, 'is required but not set');
  return v;
};
