import type { Config } from '@jobs/shared/config';
import { isStorableText, UNSTORABLE_TEXT } from '../cron/storable-json.js';
import { ApiProblem } from '../problem.js';

export const MAX_URL_LENGTH = 2048;

/**
 * Why `text` cannot be a subscription URL, or undefined when it can: it must be an absolute
 * http(s) URL with a host and without credentials (they would sit in the database and in every
 * log line naming the URL). Whether plain http is allowed depends on the environment; see
 * {@link checkUrlScheme}.
 *
 * @example
 * urlProblem('https://example.com/hook'); // undefined
 * urlProblem('ftp://example.com');       // 'must use http or https (got ftp:)'
 */
export function urlProblem(text: string): string | undefined {
  if (!isStorableText(text)) return UNSTORABLE_TEXT;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL, such as https://example.com/webhooks';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https (got ${url.protocol})`;
  if (!url.hostname) return 'must name a host';
  if (url.username || url.password) return 'must not contain credentials (user:password@); put a secret in the path or query instead';
  return undefined;
}

/**
 * Outside local and test, deliveries must be encrypted: an `http:` URL answers 400 naming
 * `body.url`. (Local and test runs deliver to receivers on the same machine.)
 *
 * @example
 * checkUrlScheme(deps.config, 'http://example.com/hook'); // throws in staging
 */
export function checkUrlScheme(config: Pick<Config, 'isLocal' | 'isTest' | 'appEnv'>, url: string): void {
  if (config.isLocal || config.isTest) return;
  if (new URL(url).protocol !== 'https:') {
    throw new ApiProblem(400, { detail: `body.url: must use https when APP_ENV=${config.appEnv}`, field: 'body.url' });
  }
}
