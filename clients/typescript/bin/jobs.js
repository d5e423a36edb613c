#!/usr/bin/env node
// The `jobs` bin. A committed, executable file rather than dist/cli/main.js itself: npm links bins
// at install time, and in this repo dist/ exists only after `npm run build` (tsc also writes it
// without the executable bit), so `npm ci && npm run build` would otherwise leave no working `jobs`.
import '../dist/cli/main.js';
