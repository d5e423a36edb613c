import { BULL_BOARD_PATH } from '../bull-board/mount-bull-board.js';

/**
 * Links into BullBoard 9.10's UI (its client-side routes: `/queue/:name?status=<state>` and
 * `/queue/:name/:jobId`, names and ids URI-encoded as its own links do).
 *
 * @example
 * bullBoardQueueUrl('jobs', 'failed'); // '/bullBoard/queue/jobs?status=failed'
 * bullBoardJobUrl('jobs', 'repeat:nightly:1700000000000'); // '/bullBoard/queue/jobs/repeat%3Anightly%3A1700000000000'
 */
export function bullBoardQueueUrl(queue: string, state?: string): string {
  const path = `${BULL_BOARD_PATH}/queue/${encodeURIComponent(queue)}`;
  return state ? `${path}?status=${encodeURIComponent(state)}` : path;
}

/** See {@link bullBoardQueueUrl}. */
export function bullBoardJobUrl(queue: string, jobId: string): string {
  return `${BULL_BOARD_PATH}/queue/${encodeURIComponent(queue)}/${encodeURIComponent(jobId)}`;
}
