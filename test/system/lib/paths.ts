import { fileURLToPath } from 'node:url';

/** The repository root (where the services are started from). */
export const root = fileURLToPath(new URL('../../..', import.meta.url));
