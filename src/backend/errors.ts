/**
 * An error caused by what the caller gave: a shape, a file, a flag, a disposed tensor.
 * The CLI prints its message as one line; anything else is a bug and keeps its stack.
 */
export class FerError extends Error {
  override name = 'FerError';
}
