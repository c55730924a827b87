// `ddar backend`: which compute backend is active, with the native addon's CPU features.

import { kernels } from '../../backend/registry.js';
import { nativeInfo } from '../../backend/native/index.js';

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log('usage: ddar backend\n\nPrints the active backend (set DDAR_BACKEND=ts to force the reference).');
    return 0;
  }
  console.log(`active backend: ${kernels().name}`);
  console.log(`native addon: ${JSON.stringify(nativeInfo())}`);
  return 0;
}
