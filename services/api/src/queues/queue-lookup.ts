import type { Queue } from 'bullmq';
import type { HandlerMap, JobClient } from '@jobs/shared';
import { ApiProblem } from '../problem.js';

/**
 * The queue called `name` among the client's queues (every queue its handlers name), or a 404
 * problem listing the known ones. `field` names where the name came from, for the problem.
 */
export function queueNamed(jobs: Pick<JobClient<HandlerMap>, 'queues'>, name: string, field = 'path.name'): Queue {
  const queue = jobs.queues.get(name);
  if (!queue) throw new ApiProblem(404, { detail: `no queue "${name}"; the queues are ${[...jobs.queues.keys()].join(', ')}`, field, knownQueues: [...jobs.queues.keys()] });
  return queue;
}
