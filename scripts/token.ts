// `npm run token -- --scope jobs:admin [--sub me] [--ttl 1h]`: mints an HS256 bearer token for the
// admin API with the configured AUTH_JWT_SECRET (and AUTH_ISSUER / AUTH_AUDIENCE when set). It
// always carries `exp` (now + ttl): the API refuses tokens without one.
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfigOrExit } from '@jobs/shared/config';

const { values } = parseArgs({
  options: {
    scope: { type: 'string', default: 'jobs:admin' },
    sub: { type: 'string', default: 'local-developer' },
    ttl: { type: 'string', default: '1h' },
  },
});
const config = loadConfigOrExit();
if (!config.auth.jwtSecret) {
  const why = config.isLocal ? 'the local API is open without it, so no token is needed' : 'tokens for RS/ES keys or JWKS come from your identity provider';
  process.stderr.write(`npm run token needs AUTH_JWT_SECRET (${why})\n`);
  process.exit(1);
}
const jwt = new SignJWT({ scope: values.scope }).setProtectedHeader({ alg: 'HS256' }).setSubject(values.sub).setIssuedAt().setExpirationTime(values.ttl);
if (config.auth.issuer) jwt.setIssuer(config.auth.issuer);
if (config.auth.audience) jwt.setAudience(config.auth.audience);
process.stdout.write(`${await jwt.sign(new TextEncoder().encode(config.auth.jwtSecret))}\n`);
