/**
 * Whether the Redis of the suites (127.0.0.1:6379) answers PING, decided synchronously (in a child process) so that
 * the suites that need it are declared as skipped, not passed, when it does not; with CI=true (`.ci/run` starts
 * Redis) a missing Redis is a failing test instead.
 */
import { execFileSync } from 'node:child_process';

export const REDIS_PORT = 6379;

export function redisAnswers(port = REDIS_PORT): boolean {
  const probe =
    `const s=require('net').connect(${port},'127.0.0.1');s.setTimeout(1500,()=>process.exit(1));` +
    `s.on('error',()=>process.exit(1));s.on('connect',()=>s.write('PING\\r\\n'));` +
    `s.on('data',(d)=>process.exit(String(d).startsWith('+PONG')?0:1));`;
  try {
    execFileSync(process.execPath, ['-e', probe], { timeout: 5000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `describe` when Redis answers, else `describe.skip` (plus, with CI=true, a test that fails and says why). */
export function describeWithRedis(): jest.Describe {
  const up = redisAnswers();
  if (!up && process.env.CI === 'true') {
    describe('Redis for this suite', () => {
      it(`answers at 127.0.0.1:${REDIS_PORT} (mandatory when CI=true: .ci/run starts it)`, () => {
        throw new Error(`Redis does not answer PING at 127.0.0.1:${REDIS_PORT}, and CI=true makes the Redis tests mandatory`);
      });
    });
  }
  return up ? describe : describe.skip;
}
