// backward(loss): the user-facing entry of autograd (ones as the seed gradient).

import { backward as run } from './autograd.js';
import { full, type Tensor } from './tensor.js';

export function backward(root: Tensor, grad?: Tensor): void {
  run(root, grad, (like) => full(like.shape, 1, like.dtype));
}
