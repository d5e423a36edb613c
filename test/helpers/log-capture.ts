import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/src/logger/index.js';

export interface CapturedLog {
  level: number;
  msg: string;
  scope?: string;
  [key: string]: unknown;
}

/** A real pino logger whose JSON lines are kept in `lines`, for asserting what was logged. */
export function captureLogger(level = 'debug'): { log: Logger; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as CapturedLog);
      done();
    },
  });
  return { log: createLogger({ level, destination }), lines };
}
