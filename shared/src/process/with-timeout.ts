/**
 * `work`, or a rejection with `timeoutError()` after `ms`. The abandoned call settles later on its
 * own; the timer never outlives the race. The one bound every "do not hang on a dependency that
 * accepts but does not answer" call in the services uses.
 *
 * @example
 * const counts = await withTimeout(queue.getJobCounts(), 1_000);
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, timeoutError: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
