// Reading a JSON file that must hold one object (a fixture's config.json, constructor arguments).

import { readFileSync } from 'node:fs';

/** The object in a JSON file; `what` names the expected contents in the error. */
export function readJsonObject(path: string, what?: string): Record<string, unknown> {
  const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`${path}: expected a JSON object${what !== undefined ? ` of ${what}` : ''}`);
  return { ...v };
}
