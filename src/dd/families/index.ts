// The family registry: name → Family. The only place that knows which families exist.

import type { Family } from './family.js';
import { llamagen } from './llamagen.js';
import { varFamily } from './var.js';

export type * from './family.js';

const REGISTRY: ReadonlyMap<string, Family> = new Map([llamagen, varFamily].map((f) => [f.name, f]));

/** Names of the registered families, in registry order. */
export const FAMILY_NAMES: readonly string[] = [...REGISTRY.keys()];

export function isFamily(name: string): boolean {
  return REGISTRY.has(name);
}

/** The family called `name`; throws naming the known ones. */
export function getFamily(name: string): Family {
  const f = REGISTRY.get(name);
  if (!f) throw new Error(`unknown model family '${name}'; known: ${FAMILY_NAMES.join(', ')}`);
  return f;
}

export function families(): readonly Family[] {
  return [...REGISTRY.values()];
}
