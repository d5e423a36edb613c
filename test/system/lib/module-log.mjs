// Loaded with `--import` into a service under test: registers module-log-hooks.mjs, which writes
// every @opentelemetry module the process resolves to MODULE_LOG_FILE (`<pid> <url>` per line).
import { register } from 'node:module';

register('./module-log-hooks.mjs', import.meta.url);
