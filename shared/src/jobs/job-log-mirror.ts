import type { Job } from 'bullmq';
import type { Logger } from 'pino';

/** Levels copied into the job's own log (BullBoard's "Logs" tab); debug and trace stay out. */
const MIRRORED = ['info', 'warn', 'error', 'fatal'] as const;
/** One mirrored line at most this long, so a chatty handler cannot bloat Redis. */
const MAX_LINE = 2_000;

/**
 * Makes `log` also append what it writes at info and above to the BullMQ job log, so the lines
 * a handler wrote are visible next to the job in BullBoard. Appends are fire-and-forget: a
 * failed append never fails the job. Retention is bounded by the job option `keepLogs`.
 */
export function mirrorToJobLog(log: Logger, job: Job): Logger {
  for (const level of MIRRORED) {
    const write = log[level].bind(log) as (...args: unknown[]) => void;
    const mirrored = (...args: unknown[]) => {
      write(...args);
      if (!log.isLevelEnabled(level)) return;
      void job.log(formatLine(level, args)).catch(() => undefined);
    };
    Object.defineProperty(log, level, { value: mirrored, configurable: true, writable: true });
  }
  return log;
}

/**
 * Logs `message` at `level` through the job's mirrored logger, and appends it to the job log
 * directly when the process log level hides that level: lines that explain a job's history (why
 * a run was put back or repeated) belong in the job log whatever the process logs.
 */
export function logToJob(log: Logger, job: Job, level: (typeof MIRRORED)[number], fields: object, message: string): void {
  if (log.isLevelEnabled(level)) log[level](fields, message);
  else void job.log(formatLine(level, [fields, message])).catch(() => undefined);
}

function formatLine(level: string, args: unknown[]): string {
  const [first, second] = args;
  let message: string;
  if (typeof first === 'string') {
    message = first;
  } else {
    const fields = first instanceof Error ? { err: first.message } : first;
    const text = typeof second === 'string' ? second : '';
    message = `${text} ${safeJson(fields)}`.trim();
  }
  return `${new Date().toISOString()} ${level.toUpperCase()} ${message}`.slice(0, MAX_LINE);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (key, v: unknown) => (v instanceof Error ? { message: v.message } : /password|secret|token|authorization/i.test(key) ? '[redacted]' : v));
  } catch {
    return '';
  }
}
