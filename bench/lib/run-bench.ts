/**
 * How every bench ends: `body` runs; a failure is printed (not after an interrupt, whose signal
 * handler has said so already) and makes the exit code 1; `cleanup` always runs; and a handle
 * left open after it cannot keep the process, and so `npm run bench`, waiting.
 */
export async function runBench(body: () => Promise<void>, options: { cleanup: () => Promise<void>; interrupted: () => boolean }): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!options.interrupted()) console.error('bench failed:', err);
    process.exitCode = 1;
  } finally {
    await options.cleanup();
    setTimeout(() => {
      console.error('open handles kept the process alive after cleanup; exiting');
      process.exit(process.exitCode ?? 0);
    }, 5_000).unref();
  }
}
