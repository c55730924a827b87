// Public namespace `eval`: image metrics.
export { LPIPS, loadLpips, LPIPS_VGG } from './lpips.js';
