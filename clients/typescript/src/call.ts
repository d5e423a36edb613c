import { JobsApiError, JobsNetworkError } from './errors.js';

/** What a generated SDK function resolves to (its `fields` response style, not throwing). */
export interface GeneratedResult<T> {
  data: T | undefined;
  error: unknown;
  request: Request;
  response: Response | undefined;
}

/**
 * The data of a successful call, else a {@link JobsApiError}: from the problem+json when the API
 * answered, a {@link JobsNetworkError} when it could not be reached, the signal's reason when the
 * caller aborted.
 */
export async function unwrap<T>(call: Promise<GeneratedResult<T>>): Promise<T> {
  let result: GeneratedResult<T>;
  try {
    result = await call;
  } catch (err) {
    // Thrown before any request went out: a base URL that is no URL, a failing getToken().
    if (err instanceof JobsApiError || (err instanceof Error && err.name === 'AbortError')) throw err;
    throw new JobsNetworkError(err);
  }
  const { data, error, request, response } = result;
  if (!response) {
    if (request.signal.aborted) throw request.signal.reason;
    throw new JobsNetworkError(error, `${request.method} ${request.url}`);
  }
  if (!response.ok) throw JobsApiError.fromResponse(response, error);
  return data as T;
}
